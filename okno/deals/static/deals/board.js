/* The kanban board: HTML5 drag and drop of deal cards between stage columns.
   A drop moves the card at once, then posts the move; if the server refuses (a required field
   is empty) the card goes back where it was and the message naming the field is shown. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var message = document.getElementById("board-message");
  var dragged = null, origin = null, originNext = null;

  function column(el) { return el && el.closest ? el.closest(".board-column") : null; }
  function cardsOf(col) { return col.querySelector(".column-cards"); }
  function show(text) {
    message.textContent = text;
    message.hidden = !text;
  }
  function clearTargets() {
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  }
  function updateColumns(columns) {
    (columns || []).forEach(function (c) {
      var col = board.querySelector('.board-column[data-stage-id="' + c.stage + '"]');
      if (!col) return;
      col.querySelector(".column-count").textContent = c.count;
      col.querySelector(".column-total").textContent = c.total;
    });
  }
  function putBack(card) {
    if (originNext && originNext.parentNode === origin) origin.insertBefore(card, originNext);
    else origin.appendChild(card);
  }

  // A card being edited in place (a quick field's form) is not dragged: text in its inputs is
  // selected with the mouse instead.
  board.addEventListener("focusin", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card") : null;
    if (card && event.target.closest("form")) card.setAttribute("draggable", "false");
  });
  board.addEventListener("focusout", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card") : null;
    if (card && !card.contains(event.relatedTarget)) card.setAttribute("draggable", "true");
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card") : null;
    if (card && !card.querySelector("form")) card.setAttribute("draggable", "true");
  });

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".deal-card") : null;
    if (!card) return;
    dragged = card;
    origin = card.parentNode;
    originNext = card.nextSibling;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal-id"));
    card.classList.add("dragging");
    show("");
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    clearTargets();
  });
  board.addEventListener("dragover", function (event) {
    var col = column(event.target);
    if (!col || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!col.classList.contains("drop-target")) {
      clearTargets();
      col.classList.add("drop-target");
    }
  });
  board.addEventListener("dragleave", function (event) {
    var col = column(event.target);
    if (col && !col.contains(event.relatedTarget)) col.classList.remove("drop-target");
  });
  board.addEventListener("drop", function (event) {
    var col = column(event.target);
    if (!col || !dragged) return;
    event.preventDefault();
    clearTargets();
    var card = dragged;
    dragged = null;
    card.classList.remove("dragging");
    if (column(origin) === col) return;
    var list = cardsOf(col);
    list.insertBefore(card, list.firstChild);
    card.classList.add("is-moving");
    var body = new URLSearchParams(board.getAttribute("data-query") || "");
    body.set("stage", col.getAttribute("data-stage-id"));
    fetch(card.getAttribute("data-move-url"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRFToken": board.getAttribute("data-csrf"), "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      card.classList.remove("is-moving");
      if (!result.ok) {
        putBack(card);
        show(result.data.detail || board.getAttribute("data-error"));
        return;
      }
      var holder = document.createElement("template");
      holder.innerHTML = result.data.card.trim();
      var fresh = holder.content.firstElementChild;
      card.replaceWith(fresh);
      if (window.htmx) window.htmx.process(fresh);
      updateColumns(result.data.columns);
    }).catch(function () {
      card.classList.remove("is-moving");
      putBack(card);
      show(board.getAttribute("data-error"));
    });
  });
})();
