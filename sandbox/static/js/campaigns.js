// Campaign pages: confirm before removing a member, and tick every row at once.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
  document.querySelectorAll("input[data-tick-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var scope = box.closest("form");
      scope.querySelectorAll("input[name='" + box.dataset.tickAll + "']").forEach(
        function (other) {
          other.checked = box.checked;
        }
      );
    });
  });
})();
