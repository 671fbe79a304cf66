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

  // Selects marked data-autosubmit (the page size) apply as soon as they change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Record pickers: type to search (JSON lookup), pick with the mouse or the
  // arrow keys and Enter. The chosen id goes into the hidden input; without a
  // choice the typed name is sent and matched on the server.
  document.querySelectorAll(".record-picker").forEach(function (picker) {
    var hidden = picker.querySelector("input[type=hidden]");
    var input = picker.querySelector("input[type=text]");
    var list = picker.querySelector("[role=listbox]");
    var url = picker.dataset.lookup;
    var timer = null;
    var active = -1;
    var options = [];
    var latest = 0; // only the newest lookup's answer is shown

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      options.forEach(function (option, i) {
        option.classList.toggle("active", i === index);
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(option) {
      hidden.value = option.dataset.id;
      input.value = option.textContent;
      close();
    }

    function render(records) {
      // Keep the highlighted record highlighted when the list is redrawn.
      var kept = active >= 0 ? options[active].dataset.id : null;
      list.textContent = "";
      options = records.map(function (record, i) {
        var item = document.createElement("li");
        item.className = "list-group-item list-group-item-action";
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.dataset.id = record.id;
        item.textContent = record.label;
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the input
          choose(item);
        });
        list.appendChild(item);
        return item;
      });
      list.hidden = options.length === 0;
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
      active = -1;
      options.forEach(function (option, i) {
        if (option.dataset.id === kept) { highlight(i); }
      });
    }

    function search() {
      var ticket = ++latest;
      fetch(url + "?q=" + encodeURIComponent(input.value.trim()), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (records) { if (ticket === latest) { render(records); } })
        .catch(close);
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("focus", function () {
      if (!input.value.trim()) { search(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden) { search(); return; }
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight(Math.max(0, Math.min(options.length - 1, active + step)));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(options[active]);
      } else if (event.key === "Escape") {
        close();
      }
    });
  });
})();

// A form with data-confirm asks its question before it is sent (removing, say);
// without scripts it is sent at once, as a plain form.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
})();

// A form that posts is sent once: a second click (or Enter) while the first is on
// its way is ignored, so a double click never records a payment or an order twice.
// Forms sent by scripts (they cancel the submit), cancelled confirmations and
// downloads (data-download: the page stays) are left alone; a page brought back by
// the Back button can be sent again.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post" ||
        "download" in form.dataset) {
      return;
    }
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-sending]").forEach(function (form) {
        delete form.dataset.sending;
      });
    }
  });
})();
