/* The pipeline board: drag a card onto another stage's column and the move is posted with
   htmx (the server checks the version and the permission and answers with the board). The
   arrow buttons and the stage select of each card do the same from the keyboard, and post
   as plain forms without JavaScript. */
(function () {
  "use strict";
  var dragged = null;
  var focusAfter = null;

  function board() { return document.getElementById("board"); }

  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".opp-card[draggable=true]");
    if (!card) { return; }
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.id);
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    document.querySelectorAll(".board-col.drop-here").forEach(function (c) { c.classList.remove("drop-here"); });
    dragged = null;
  });
  document.addEventListener("dragover", function (e) {
    var col = dragged && e.target.closest && e.target.closest(".board-col");
    if (!col) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".board-col.drop-here").forEach(function (c) { if (c !== col) { c.classList.remove("drop-here"); } });
    col.classList.add("drop-here");
  });
  document.addEventListener("drop", function (e) {
    var col = dragged && e.target.closest && e.target.closest(".board-col");
    if (!col) { return; }
    e.preventDefault();
    var card = dragged;
    col.classList.remove("drop-here");
    if (card.closest(".board-col") === col || !window.htmx) { return; }
    focusAfter = card.id;
    window.htmx.ajax("POST", card.getAttribute("data-move"), {
      source: card, target: "#board", swap: "outerHTML",
      values: { stage: col.getAttribute("data-stage"), version: card.getAttribute("data-version") }
    });
  });
  // A button or select inside a card keeps the keyboard on that card after the board is
  // redrawn.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var card = e.target.closest && e.target.closest(".opp-card");
    if (card) {
      focusAfter = card.id;
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var b = board();
    if (!b) { return; }
    var problem = document.getElementById("board-error");
    if (problem) { problem.setAttribute("tabindex", "-1"); problem.focus(); focusAfter = null; return; }
    if (!focusAfter) { return; }
    var card = document.getElementById(focusAfter);
    focusAfter = null;
    if (card) { card.focus(); }
  });
})();
