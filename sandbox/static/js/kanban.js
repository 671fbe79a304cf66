// The opportunity pipeline: drag a card to another stage (the server applies the
// same rules as the form). Each card's "Move to" form works without this file.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  var board = document.querySelector(".kanban");
  if (!board || board.dataset.writable !== "true") { return; }
  var status = document.querySelector(".kanban-status");
  var dragged = null;

  function say(text, level, link) {
    status.className = "kanban-status alert alert-" + level;
    status.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link.url;
      a.textContent = link.label;
      a.className = "alert-link ms-2";
      status.appendChild(a);
    }
  }

  function updateSummaries(columns) {
    Object.keys(columns).forEach(function (stageId) {
      var column = board.querySelector('.kanban-column[data-stage-id="' + stageId + '"]');
      if (!column) { return; }
      ["count", "total", "weighted"].forEach(function (key) {
        var cell = column.querySelector('[data-summary="' + key + '"]');
        if (cell) { cell.textContent = columns[stageId][key]; }
      });
    });
  }

  function move(card, column) {
    var from = card.closest(".kanban-column");
    if (from === column) { return; }
    var stageId = column.dataset.stageId;
    card.classList.add("moving");
    fetch(card.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": board.dataset.csrf
      },
      body: JSON.stringify({ stage_id: Number(stageId) })
    }).then(function (response) {
      return response.json().then(function (data) { return [response, data]; });
    }).then(function (result) {
      var response = result[0], data = result[1];
      card.classList.remove("moving");
      if (!response.ok) {
        var link = data.close_lost_url ? { url: data.close_lost_url, label: board.dataset.closeLostLabel } : null;
        say(data.error, "warning", link);
        return;
      }
      if (column.classList.contains("kanban-closed")) {
        card.remove();
      } else {
        column.querySelector(".kanban-cards").appendChild(card);
        var select = card.querySelector("select[name=stage_id]");
        if (select) { select.value = stageId; }
        var empty = column.querySelector(".kanban-empty");
        if (empty) { empty.remove(); }
      }
      updateSummaries(data.columns);
      say(data.message, "success");
    }).catch(function () {
      card.classList.remove("moving");
      say(board.dataset.failedLabel, "danger");
    });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".kanban-card");
    if (!card) { return; }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("dragging");
  });
  board.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  board.querySelectorAll(".kanban-column").forEach(function (column) {
    column.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", function (event) {
      if (!column.contains(event.relatedTarget)) { column.classList.remove("drop-target"); }
    });
    column.addEventListener("drop", function (event) {
      event.preventDefault();
      column.classList.remove("drop-target");
      if (dragged) { move(dragged, column); }
      dragged = null;
    });
  });
})();
