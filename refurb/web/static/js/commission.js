// The commission page on a projector: move between households and decide with the keyboard.
(() => {
  const items = () => Array.from(document.querySelectorAll(".agenda-item"));
  const current = () => document.activeElement && document.activeElement.closest(".agenda-item");
  const move = (step) => {
    const all = items();
    const at = all.indexOf(current());
    const next = all[Math.max(0, Math.min(all.length - 1, at + step))];
    if (next) { next.focus(); next.scrollIntoView({ block: "start" }); }
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.matches("input, textarea, select");
    const item = current();
    if (typing && event.key === "Escape" && item) { item.focus(); return; }
    // Enter in a reason typed before a decision key was pressed would submit the first button (approve).
    if (typing && event.key === "Enter" && event.target.matches(".decision-reason")
        && !event.target.form.querySelector("input[name=kind]")) { event.preventDefault(); return; }
    if (typing) return;
    if (event.key === "ArrowDown" || event.key === "j") { event.preventDefault(); move(1); return; }
    if (event.key === "ArrowUp" || event.key === "k") { event.preventDefault(); move(-1); return; }
    if (!item) return;
    const button = item.querySelector(`button[data-key="${event.key}"]`);
    if (!button) return;
    event.preventDefault();
    const form = item.querySelector("form");
    form.querySelectorAll("input[name=kind]").forEach((i) => i.remove());
    const kind = document.createElement("input");
    kind.type = "hidden"; kind.name = "kind"; kind.value = button.value;
    form.append(kind);
    if (button.value === "approve") { form.requestSubmit(button); return; }
    if (button.value === "modify") item.querySelector(".modify-lines").hidden = false;
    const reason = item.querySelector(".decision-reason");
    reason.focus();
    reason.onkeydown = (e) => { if (e.key === "Enter") { e.preventDefault(); form.requestSubmit(button); } };
  });
  const first = items()[0];
  if (first && !document.querySelector("#decision-error")) first.focus();
})();
