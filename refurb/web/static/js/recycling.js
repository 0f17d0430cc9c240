// Recycling lot: the scan input keeps the focus (clicks outside the handover form give it back);
// a keyboard-wedge scan ending with Tab is sent like one ending with Enter.
(function () {
  "use strict";
  var input = document.getElementById("scan-input");
  if (!input) return;
  input.focus();
  document.addEventListener("click", function (event) {
    if (event.target.closest("input, select, textarea, button, a, label")) return;
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || !input.value.trim()) return;
    event.preventDefault();
    input.form.submit();
  });
})();
