/* Okno's few lines of script: whatever htmx does not cover. */
(function () {
  "use strict";
  // "Add one more" phone / e-mail: copy the row's <template> into its list, then let
  // htmx see the new input so that typing in it also checks for duplicates.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    event.preventDefault();
    var list = document.getElementById(button.getAttribute("data-add-row"));
    var template = document.getElementById(button.getAttribute("data-add-row") + "-template");
    if (!list || !template) return;
    var row = template.content.firstElementChild.cloneNode(true);
    list.appendChild(row);
    var input = row.querySelector("input");
    if (input) input.focus();
    if (window.htmx) window.htmx.process(row);
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-row]");
    if (!button) return;
    event.preventDefault();
    var row = button.closest(".multi-row");
    var form = button.closest("form");
    if (row) row.remove();
    // Removing a phone changes what the duplicate check should look at.
    if (form) form.dispatchEvent(new Event("input", { bubbles: true }));
  });
  // Confirmation for dangerous buttons without a separate page.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
