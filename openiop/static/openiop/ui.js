// Small behaviours that would otherwise be inline handlers (the CSP forbids inline script):
// <form data-confirm="Question?"> asks before submitting; <button data-print> prints the page.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});
