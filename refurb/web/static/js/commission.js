// The commission page on a projector: move between households and decide with the keyboard.
// A decision key (or a click on its button) chooses the decision; approve is sent at once, the
// others open what they need and are sent by Enter (or a second click); Escape cancels the choice.
(() => {
  const items = () => Array.from(document.querySelectorAll(".agenda-item"));
  const current = () => document.activeElement && document.activeElement.closest(".agenda-item");
  const show = (element) => {
    element.focus({ preventScroll: true });
    element.closest(".agenda-item").scrollIntoView({ block: "start" });
  };
  const move = (step) => {
    const all = items();
    const at = all.indexOf(current());
    const next = all[Math.max(0, Math.min(all.length - 1, at + step))];
    if (next) show(next);
  };
  const reasonOf = (item) => item.querySelector(".decision-reason");
  const hintOf = (item) => item.querySelector(".choice-hint");
  const describe = (field, ids) => {
    if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
    else field.removeAttribute("aria-describedby");
  };
  const errorIds = (field) => (field.getAttribute("aria-invalid") === "true" ? ["decision-error"] : []);

  const cancel = (item) => {
    delete item.dataset.chosen;
    item.querySelector(".modify-lines").hidden = true;
    hintOf(item).hidden = true;
    describe(reasonOf(item), errorIds(reasonOf(item)));
  };

  // What a decision needs before it is sent; approve needs nothing.
  const choose = (item, button) => {
    if (button.value === "approve") {
      item.querySelector("form").requestSubmit(button);
      return;
    }
    item.dataset.chosen = button.value;
    item.querySelector(".modify-lines").hidden = button.value !== "modify";
    const hint = hintOf(item);
    hint.textContent = button.dataset.hint || "";
    hint.hidden = !hint.textContent;
    const reason = reasonOf(item);
    describe(reason, [...(hint.hidden ? [] : [hint.id]), ...errorIds(reason)]);
    show(reason);
  };

  const chosenButton = (item) =>
    item && item.dataset.chosen ? item.querySelector(`button[value="${item.dataset.chosen}"]`) : null;

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.matches("input, textarea, select");
    const item = current();
    if (typing && item && event.key === "Escape") { cancel(item); show(item); return; }
    // Enter in a field sends the decision chosen, never the form's first button (approve).
    if (typing && item && event.key === "Enter" && event.target.closest(".decision-form")) {
      event.preventDefault();
      const button = chosenButton(item);
      if (button) item.querySelector("form").requestSubmit(button);
      return;
    }
    if (typing) return;
    if (event.key === "ArrowDown" || event.key === "j") { event.preventDefault(); move(1); return; }
    if (event.key === "ArrowUp" || event.key === "k") { event.preventDefault(); move(-1); return; }
    if (!item) return;
    const button = item.querySelector(`button[data-key="${event.key}"]`);
    if (!button) return;
    event.preventDefault();
    choose(item, button);
  });

  // A click on modify, defer or reject chooses it first: the reason (and the quantities) come before sending.
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".decision-form button[data-key]");
    if (!button || button.value === "approve") return;
    const item = button.closest(".agenda-item");
    if (item.dataset.chosen === button.value) return;
    event.preventDefault();
    choose(item, button);
  });

  // On load: a refused decision is chosen again with the field to correct in hand; otherwise the
  // household after the one just decided (the address's #item-…), or the first.
  const refused = document.querySelector(".agenda-item[data-refused]");
  if (refused) {
    const button = refused.querySelector(`button[value="${refused.dataset.refused}"]`);
    if (button && button.value !== "approve") choose(refused, button);
    const invalid = refused.querySelector("[aria-invalid=true]");
    show(invalid || refused);
    return;
  }
  const wanted = location.hash.startsWith("#item-") ? document.getElementById(location.hash.slice(1)) : null;
  if (wanted && wanted.matches(".agenda-item")) show(wanted);
  else if (items().length) items()[0].focus();
})();
