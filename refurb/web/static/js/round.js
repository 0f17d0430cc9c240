// The round page follows the day live: every 20 s, while nobody is typing in a form,
// the progress, conflicts, convocations and receipts are fetched again and swapped in.
(function () {
  "use strict";
  var SECTIONS = ["progress", "conflicts", "convocations", "receipts"];
  var PERIOD_MS = 20000;

  function busy() {
    var active = document.activeElement;
    return active && active.closest && active.closest("form") && active.matches("input, textarea, select");
  }

  function refresh() {
    if (document.hidden || busy()) return;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { "accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html || busy()) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        SECTIONS.forEach(function (id) {
          var now = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (now && next && now.innerHTML !== next.innerHTML) now.innerHTML = next.innerHTML;
        });
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  window.setInterval(refresh, PERIOD_MS);
})();
