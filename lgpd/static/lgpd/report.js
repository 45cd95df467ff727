// "Imprimir ou salvar em PDF" on the LGPD report's page.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
