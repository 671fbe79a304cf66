// The calendar: drag an open activity to another day to reschedule it. The server
// applies the same rules as the activity form and answers with a message.
(function () {
  "use strict";

  var calendar = document.querySelector(".calendar");
  if (!calendar || calendar.dataset.writable !== "true") { return; }
  var status = document.querySelector(".calendar-status");
  var dragged = null;

  function say(text, level) {
    status.className = "calendar-status alert alert-" + level;
    status.textContent = text;
  }

  function move(item, cell) {
    var from = item.closest(".calendar-day");
    if (from === cell) { return; }
    item.classList.add("moving");
    fetch(item.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": calendar.dataset.csrf
      },
      body: JSON.stringify({ day: cell.dataset.day })
    }).then(function (response) {
      return response.json().then(function (data) { return [response, data]; });
    }).then(function (result) {
      var response = result[0], data = result[1];
      item.classList.remove("moving");
      if (!response.ok) {
        say(data.error, "warning");
        return;
      }
      var list = cell.querySelector(".calendar-items") || cell;
      var holder = item.parentElement && item.parentElement.tagName === "LI" ? item.parentElement : item;
      list.appendChild(holder);
      say(data.message, "success");
    }).catch(function () {
      item.classList.remove("moving");
      say(calendar.dataset.failedLabel, "danger");
    });
  }

  calendar.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest(".calendar-item[draggable=true]");
    if (!item) { return; }
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
    item.classList.add("dragging");
  });
  calendar.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    calendar.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  calendar.querySelectorAll(".calendar-day[data-day]").forEach(function (cell) {
    cell.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      cell.classList.add("drop-target");
    });
    cell.addEventListener("dragleave", function (event) {
      if (!cell.contains(event.relatedTarget)) { cell.classList.remove("drop-target"); }
    });
    cell.addEventListener("drop", function (event) {
      event.preventDefault();
      cell.classList.remove("drop-target");
      if (dragged) { move(dragged, cell); }
      dragged = null;
    });
  });
})();
