// Campaign pages: tick every row at once.
(function () {
  "use strict";
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
