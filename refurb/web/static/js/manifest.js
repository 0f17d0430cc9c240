/* The manifest form without a page reload: the chosen file stays selected, so
   "Check" then "Import" needs no second pick. Without JavaScript the form posts
   and the page comes back with the same report. */
(function () {
  "use strict";
  var form = document.getElementById("manifest-form");
  if (!form || !window.fetch || !window.FormData || !window.DOMParser) return;
  var SECTIONS = ["manifest-report", "reconciliation", "batch-counts", "batch-state", "page-error"];

  function swap(html) {
    var next = new DOMParser().parseFromString(html, "text/html");
    SECTIONS.forEach(function (id) {
      var fresh = next.getElementById(id);
      var current = document.getElementById(id);
      if (fresh && current) current.replaceWith(fresh);
      else if (current) current.remove();
      else if (fresh && id === "page-error") form.parentNode.insertBefore(fresh, form);
    });
    var freshMapping = next.querySelector("#manifest-form details");
    var mapping = form.querySelector("details");
    if (freshMapping && mapping) {
      var file = form.querySelector("input[type=file]");
      mapping.replaceWith(freshMapping);
      if (file) file.focus({ preventScroll: true });
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) data.set(event.submitter.name, event.submitter.value);
    var buttons = form.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { "accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(swap)
      .catch(function () { form.submit(); })
      .then(function () {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        form.removeAttribute("aria-busy");
        var report = document.getElementById("manifest-report");
        if (report) report.scrollIntoView({ block: "start" });
      });
  });
})();
