/* The label preview page's print form. */
(function () {
  "use strict";
  var form = document.getElementById("print-form");
  if (!form) return;
  var status = document.getElementById("print-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var body = { codes: [form.dataset.code], kind: form.dataset.kind, stock: form.dataset.stock };
    if (data.get("printer")) { body.printer = data.get("printer"); delete body.stock; }
    ["crates", "start"].forEach(function (name) { if (data.get(name)) body[name] = Number(data.get(name)); });
    ["offset_x", "offset_y"].forEach(function (name) { if (data.get(name)) body[name] = parseFloat(data.get(name)); });
    status.textContent = "…";
    window.RefurbPrint.printLabels(body, window.RefurbPrint.pdfTab(body)).then(function (result) {
      status.textContent = result.printer ? "✔ " + result.printer + (result.job.reprint ? " (" + form.dataset.reprint + ")" : "") : "✔ PDF";
    }, function (problem) {
      status.textContent = "✘ " + (problem.detail || problem.title || problem);
    });
  });
})();
