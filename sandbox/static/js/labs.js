// Lesson pages and the lesson panel: Check without leaving the page, and a panel
// that remembers whether it is open and which step it shows. Everything works
// without this file (forms post and the page reloads).
(function () {
  "use strict";

  function store(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: the panel simply forgets */ }
    return null;
  }

  // Check: post the form, show the result and newly unlocked hints in place.
  document.querySelectorAll("form.lab-check").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; }
      event.preventDefault();
      var step = form.closest(".lab-step");
      var box = step.querySelector(".lab-result-box");
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      }).then(function (reply) {
        if (reply.data.error) {
          box.innerHTML = "";
          var alert = document.createElement("div");
          alert.className = "alert alert-info py-2 mb-2";
          alert.setAttribute("role", "status");
          alert.textContent = reply.data.error;
          box.appendChild(alert);
          return;
        }
        box.innerHTML = reply.data.html;
        step.querySelector(".lab-hints").innerHTML = reply.data.hints;
        step.classList.toggle("border-success", reply.data.passed);
        step.querySelector(".lab-step-passed").hidden = !reply.data.passed;
        step.querySelector(".lab-step-open").hidden = reply.data.passed;
        form.querySelector(".lab-attempts").textContent = reply.data.attempts;
        document.querySelectorAll(".lab-lesson-points").forEach(function (points) {
          points.textContent = reply.data.lesson_points.trim();
        });
        var tab = document.querySelector('.lab-step-tab[data-step="' + step.dataset.step + '"]');
        if (tab) {
          tab.classList.toggle("btn-success", reply.data.passed);
          tab.classList.toggle("btn-outline-secondary", !reply.data.passed);
        }
        if (reply.data.passed) { offerNext(step, box); }
      }).catch(function () {
        form.submit();
      }).finally(function () {
        button.disabled = false;
      });
    });
  });

  // In the panel, a passed step offers the next step not yet passed.
  function offerNext(step, box) {
    var inPanel = document.getElementById("lab-panel");
    if (!inPanel || !inPanel.contains(step)) { return; }
    var all = Array.prototype.slice.call(inPanel.querySelectorAll(".lab-step"));
    var at = all.indexOf(step);
    var next = all.slice(at + 1).concat(all.slice(0, at)).filter(function (s) {
      return !s.classList.contains("border-success");
    })[0];
    if (!next) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-outline-success mb-2 lab-next-step";
    button.textContent = inPanel.dataset.nextLabel;
    button.addEventListener("click", function () { show(next.dataset.step); });
    box.appendChild(button);
  }

  var panel = document.getElementById("lab-panel");
  if (!panel) { return; }
  var lesson = panel.dataset.lesson;
  var stepKey = "lab-step:" + lesson;
  var collapsedKey = "lab-panel-collapsed";
  var toggle = panel.querySelector(".lab-panel-toggle");
  var steps = panel.querySelectorAll(".lab-step");
  var tabs = panel.querySelectorAll(".lab-step-tab");
  document.body.classList.add("lab-panel-open");

  function show(stepId) {
    var found = false;
    steps.forEach(function (s) {
      var current = s.dataset.step === stepId;
      s.classList.toggle("lab-current", current);
      found = found || current;
    });
    if (!found && steps.length) {
      steps[0].classList.add("lab-current");
      stepId = steps[0].dataset.step;
    }
    tabs.forEach(function (t) {
      t.setAttribute("aria-current", t.dataset.step === stepId ? "step" : "false");
    });
    store(stepKey, stepId);
  }

  function collapse(collapsed) {
    panel.classList.toggle("lab-collapsed", collapsed);
    document.body.classList.toggle("lab-panel-collapsed", collapsed);
    toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
    store(collapsedKey, collapsed ? "1" : "0");
  }

  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () { show(tab.dataset.step); });
  });
  toggle.addEventListener("click", function () {
    collapse(!panel.classList.contains("lab-collapsed"));
  });
  // The first step not yet passed, unless the student chose another one.
  var firstOpen = panel.querySelector(".lab-step:not(.border-success)");
  show(store(stepKey) || (firstOpen ? firstOpen.dataset.step : ""));
  collapse(store(collapsedKey) === "1");
})();
