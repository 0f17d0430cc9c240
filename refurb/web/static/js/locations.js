/* The locations page: print the labels of a whole branch as one PDF (or on a printer) through print jobs. */
(function () {
  "use strict";
  document.querySelectorAll(".print-subtree").forEach(function (button) {
    button.addEventListener("click", function () {
      var status = button.parentNode.querySelector(".print-status");
      var body = { codes: button.dataset.codes.split(","), kind: "location" };
      status.textContent = "…";
      window.RefurbPrint.printLabels(body, window.RefurbPrint.pdfTab(body)).then(function () {
        status.textContent = "✔ PDF";
      }, function (problem) {
        status.textContent = "✘ " + (problem.detail || problem.title || problem);
      });
    });
  });
})();
