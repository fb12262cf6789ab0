// Small page behaviours, declared in templates with data attributes (no inline handlers: the
// Content-Security-Policy runs scripts only from files). Delegated, so htmx-swapped content works too.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.requestSubmit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
// Parts of a form that apply to one choice only: <fieldset data-show-when="kind" data-show-value="cron">
// is shown while the form's "kind" field is "cron" (several values: space-separated). Hidden parts are
// disabled too, so they are not sent; the server ignores them anyway, and without JavaScript all show.
function showChosenParts(root) {
  root.querySelectorAll("form").forEach((form) => {
    form.querySelectorAll("[data-show-when]").forEach((part) => {
      const field = form.elements.namedItem(part.dataset.showWhen);
      if (!field) return;
      const shown = part.dataset.showValue.split(" ").includes(field.value);
      part.hidden = !shown;
      part.querySelectorAll("input, select, textarea").forEach((input) => {
        input.disabled = !shown;
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", () => showChosenParts(document));
document.addEventListener("change", (event) => {
  if (event.target.form) showChosenParts(event.target.form.parentElement || document);
});
document.addEventListener("htmx:afterSwap", (event) => showChosenParts(event.detail.elt.parentElement || document));
// A table that scrolls in its own box must be reachable by keyboard, or a keyboard user cannot
// scroll it (WCAG 2.1.1): every scroll box takes the focus.
function focusableScrollBoxes(root) {
  for (const box of root.querySelectorAll(".table-responsive:not([tabindex])")) {
    box.tabIndex = 0;
    // Named after its table's caption or the heading just before it, when there is one; an
    // unnamed box stays a plain focusable box rather than a landmark called "table".
    const caption = box.querySelector("caption");
    const heading = box.previousElementSibling;
    const name = caption ? caption.textContent : heading && /^H[1-6]$/.test(heading.tagName) ? heading.textContent : "";
    if (name.trim() && !box.hasAttribute("role")) {
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name.trim());
    }
  }
}
focusableScrollBoxes(document);
document.addEventListener("htmx:afterSettle", (event) => focusableScrollBoxes(event.target));
