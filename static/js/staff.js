// Staff pages (templates/base.html): behaviour declared in the markup, so that no page needs
// an inline handler (the Content-Security-Policy allows scripts from 'self' only).
//   <form data-confirm="…">   asks before it is submitted
//   <select data-autosubmit>   submits its form when changed
document.addEventListener("submit", function (e) {
  var form = e.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
});
document.addEventListener("change", function (e) {
  if (e.target.matches("select[data-autosubmit]") && e.target.form) e.target.form.submit();
});
