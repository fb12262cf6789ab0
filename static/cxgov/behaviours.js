// Small page behaviours, declared in templates with data attributes (no inline handlers: the
// Content-Security-Policy runs scripts only from files). Delegated, so htmx-swapped content works too.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.requestSubmit();
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
