// Small page behaviours, declared in templates with data attributes (no inline handlers: the
// Content-Security-Policy runs scripts only from files). Delegated, so htmx-swapped content works too.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.requestSubmit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
// A table that scrolls in its own box must be reachable by keyboard, or a keyboard user cannot
// scroll it (WCAG 2.1.1): every scroll box takes the focus and is named after its table.
function focusableScrollBoxes(root) {
  for (const box of root.querySelectorAll(".table-responsive:not([tabindex])")) {
    box.tabIndex = 0;
    if (!box.hasAttribute("role")) box.setAttribute("role", "region");
    const caption = box.querySelector("caption");
    const heading = box.previousElementSibling;
    const name = caption ? caption.textContent : heading && /^H[1-6]$/.test(heading.tagName) ? heading.textContent : "Table";
    if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", name.trim());
  }
}
focusableScrollBoxes(document);
document.addEventListener("htmx:afterSettle", (event) => focusableScrollBoxes(event.target));
