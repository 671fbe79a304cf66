// Resetting a whole class one student at a time, with a progress bar and a
// summary. Without this file the form resets the class in one request.
(function () {
  "use strict";
  var form = document.querySelector("form[data-class-reset]");
  if (!form) { return; }
  var urls = JSON.parse(form.dataset.classReset);
  var token = form.querySelector("input[name=csrf_token]").value;
  var panel = document.getElementById("reset-progress");
  var bar = panel.querySelector(".progress-bar");
  var count = panel.querySelector("[data-count]");
  var failures = panel.querySelector("[data-failures]");
  var done = panel.querySelector("[data-done]");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    form.querySelectorAll("button, a").forEach(function (el) {
      el.setAttribute("disabled", "disabled");
      el.classList.add("disabled");
    });
    panel.hidden = false;
    var started = Date.now();
    var ok = 0;
    var body = new URLSearchParams({ csrf_token: token });

    function step(index) {
      var percent = Math.round((100 * index) / urls.length);
      bar.style.width = percent + "%";
      bar.parentElement.setAttribute("aria-valuenow", String(percent));
      count.textContent = index + " / " + urls.length;
      if (index === urls.length) {
        done.textContent = done.dataset.template
          .replace("{done}", ok)
          .replace("{total}", urls.length)
          .replace("{seconds}", ((Date.now() - started) / 1000).toFixed(1));
        done.parentElement.hidden = false;
        return;
      }
      fetch(urls[index], {
        method: "POST",
        body: body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) { return response.json(); })
        .then(function (result) {
          if (result.ok) {
            ok += 1;
          } else {
            var item = document.createElement("li");
            item.textContent = result.student + ": " + result.message;
            failures.appendChild(item);
          }
        })
        .catch(function (error) {
          var item = document.createElement("li");
          item.textContent = String(error);
          failures.appendChild(item);
        })
        .then(function () { step(index + 1); });
    }
    step(0);
  });
})();
