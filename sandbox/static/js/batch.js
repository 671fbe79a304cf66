// A class-wide job done one student per request, with a progress bar and a
// summary: resetting every CRM of a class, building the CRMs of a new class list.
// The form's data-batch holds the URLs to post to, data-batch-panel the id of its
// progress panel; with data-batch-autostart the job starts when the page opens,
// else when the form is sent. Without this file the form does it in one request.
(function () {
  "use strict";

  function run(form) {
    var urls = JSON.parse(form.dataset.batch);
    var token = form.querySelector("input[name=csrf_token]").value;
    var panel = document.getElementById(form.dataset.batchPanel);
    var bar = panel.querySelector(".progress-bar");
    var count = panel.querySelector("[data-count]");
    var failures = panel.querySelector("[data-failures]");
    var done = panel.querySelector("[data-done]");

    form.querySelectorAll("button, a").forEach(function (el) {
      el.setAttribute("disabled", "disabled");
      el.classList.add("disabled");
    });
    panel.hidden = false;
    var started = Date.now();
    var ok = 0;
    var body = new URLSearchParams({ csrf_token: token });

    function fail(text) {
      var item = document.createElement("li");
      item.textContent = text;
      failures.appendChild(item);
    }

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
            fail(result.student + ": " + result.message);
          }
        })
        .catch(function (error) { fail(String(error)); })
        .then(function () { step(index + 1); });
    }
    step(0);
  }

  document.querySelectorAll("form[data-batch]").forEach(function (form) {
    if (form.hasAttribute("data-batch-autostart")) {
      run(form);
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(form);
    });
  });
})();
