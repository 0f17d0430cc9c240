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
