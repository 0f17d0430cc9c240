// Erasure station: the scan input keeps focus; a report chosen or dropped is sent at once.
(function () {
  "use strict";
  var input = document.getElementById("scan-input");
  var file = document.getElementById("report-file");
  function refocus(event) {
    var target = event && event.target;
    if (target && target.closest && target.closest("form") && target.closest("form").id !== "scan") return;
    if (input && document.activeElement !== input) input.focus();
  }
  if (input) {
    input.focus();
    document.addEventListener("click", refocus);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Tab") { event.preventDefault(); input.form.submit(); }
    });
  }
  if (file) {
    file.addEventListener("change", function () { if (file.files.length) file.form.submit(); });
  }
})();
