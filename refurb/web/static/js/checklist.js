/* The workshop checklist's « Tout fonctionne »: ticking it answers "works" for every
   function still unanswered, visibly (the server does the same with `all_works`, so the
   form also works without this script); a function already set to faulty or not fitted
   keeps its answer. Unticking clears only what the box had filled. */
(function () {
  "use strict";
  var OK = "ok";

  function checks(form) {
    return Array.prototype.filter.call(form.querySelectorAll("select"), function (select) {
      return select.name.indexOf("check_") === 0;
    });
  }

  function apply(form, box) {
    checks(form).forEach(function (select) {
      if (box.checked && !select.value) {
        select.value = OK;
        select.dataset.byAllWorks = "true";
        select.closest("label").classList.add("ticked");
      } else if (!box.checked && select.dataset.byAllWorks === "true") {
        select.value = "";
        delete select.dataset.byAllWorks;
        select.closest("label").classList.remove("ticked");
      }
    });
    form.dispatchEvent(new CustomEvent("refurb:changed"));
  }

  document.addEventListener("refurb:form-opened", function (event) {
    var form = event.detail.form;
    var box = form.elements.namedItem("all_works");
    if (!box || box.type !== "checkbox" || box.dataset.checklist) return;
    box.dataset.checklist = "on";
    box.addEventListener("change", function () { apply(form, box); });
    checks(form).forEach(function (select) {
      select.addEventListener("change", function () {
        delete select.dataset.byAllWorks; /* a person's answer is theirs */
        select.closest("label").classList.remove("ticked");
      });
    });
    if (box.checked) apply(form, box); /* a refused form comes back with the box ticked */
  });
})();
