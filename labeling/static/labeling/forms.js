// Small form behaviours for the labeling pages, declared in the markup instead of inline
// handlers (the Content-Security-Policy allows no inline script):
//   <select data-autosubmit>   submits its form when changed
//   <form data-confirm="…">     asks before submitting

document.addEventListener("change", (e) => {
  const field = e.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.requestSubmit();
});

document.addEventListener("submit", (e) => {
  const form = e.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
});
