// Progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Jump-to-page: a page number of 0, nothing, or past the last page does nothing.
  document.querySelectorAll("form.jump-to-page").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[name=page]");
      var pages = parseInt(form.dataset.pages, 10);
      var page = Number(input.value);
      if (!input.value.trim() || !Number.isInteger(page) || page < 1 || page > pages) {
        event.preventDefault();
        input.value = "";
      }
    });
  });
})();
