/* Keep the home page's counts live without reloading. */
(function () {
  "use strict";
  var grid = document.getElementById("state-counts");
  if (!grid) return;
  var seconds = Number(grid.dataset.refresh) || 15;
  function refresh() {
    fetch("/api/v1/devices/states", { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (counts) {
        if (!counts) return;
        var total = 0;
        Object.keys(counts).forEach(function (state) {
          var el = grid.querySelector('[data-state="' + state + '"]');
          if (el) el.textContent = counts[state];
          total += counts[state];
        });
        document.getElementById("total-count").textContent = total;
      })
      .catch(function () {});
  }
  setInterval(refresh, seconds * 1000);
})();

/* Bus staff: the hand-overs this tablet still has to send, whatever the round. */
(function () {
  "use strict";
  var box = document.getElementById("bus-waiting");
  if (!box || !window.indexedDB) return;
  var request = indexedDB.open("refurb-bus", 1);
  request.onupgradeneeded = function () {
    var base = request.result;
    base.createObjectStore("packs", { keyPath: "round" });
    base.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
    base.createObjectStore("conflicts", { keyPath: "seq", autoIncrement: true });
  };
  request.onsuccess = function () {
    var count = request.result.transaction("queue", "readonly").objectStore("queue").count();
    count.onsuccess = function () {
      box.dataset.waiting = String(count.result);
      box.textContent = box.dataset.template.replace("{n}", count.result);
    };
  };
})();
