// ccbhub shell behaviour. The Content-Security-Policy allows no inline script or on*="" handler in a
// page, so the few behaviours pages need are declared with data attributes and wired here, once, by
// delegation (so they also work on content htmx swaps in):
//   <button type="button" data-print>  prints the page;
//   <select data-autosubmit>           submits its form when the choice changes.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
document.addEventListener("change", function (event) {
  var field = event.target.closest && event.target.closest("[data-autosubmit]");
  if (field && field.form) {
    field.form.submit();
  }
});
