// Stock-take: every scan is added to the list and the whole list is compared again (safe to repeat).
(function () {
  "use strict";
  var take = document.getElementById("take");
  var input = document.getElementById("scan-input");
  if (input) { input.focus(); document.addEventListener("click", function () { input.focus(); }); }
  if (!take || !input) return;
  var scanned = [];
  var token = document.querySelector("meta[name=csrf-token]").content;
  function fill(id, items, text) {
    var list = document.getElementById(id);
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = text(item);
      list.appendChild(li);
    });
    document.getElementById(id + "-count").textContent = items.length;
  }
  function show(result) {
    fill("found", result.found, function (c) { return c; });
    fill("missing", result.missing, function (c) { return c; });
    fill("extra", result.extra, function (m) { return m.display_code + (m.recorded_at ? " → " + m.recorded_at : ""); });
    document.getElementById("take-summary").textContent =
      result.found.length + " / " + result.expected + (result.unreadable.length ? " · ? " + result.unreadable.join(", ") : "");
    take.dataset.done = String(scanned.length);
  }
  function send() {
    fetch("/api/v1/stock/takes", {
      method: "POST",
      headers: {"content-type": "application/json", "x-csrftoken": token},
      body: JSON.stringify({location: take.dataset.location, scanned: scanned}),
      credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(show);
  }
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== "Tab") return;
    event.preventDefault();
    var text = input.value.trim();
    input.value = "";
    if (!text) return;
    scanned.push(text);
    send();
  });
  send();
})();
