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
  // "Tick all": a header checkbox ticks the rows' checkboxes of the same name (the leads' bulk reassign).
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-tick-all]");
    if (!all) return;
    var table = all.closest("table") || document;
    table.querySelectorAll('input[type=checkbox][name="' + all.getAttribute("data-tick-all") + '"]')
      .forEach(function (box) { box.checked = all.checked; });
  });
  // Confirmation for dangerous buttons without a separate page.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  // Screen pop: the push stream says whose call rings this employee's phone; the card is one
  // click away. Built with textContent only: names come from customers.
  // One push stream a page: robots' notices for everyone signed in, screen pops for who takes calls.
  var pop = document.getElementById("screen-pop");
  var notices = document.getElementById("notices");
  var pushUrl = (pop || notices) && (pop || notices).getAttribute("data-push-url");
  var line = function (tag, text, cls) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  };
  var stream = pushUrl && window.EventSource ? new EventSource(pushUrl, { withCredentials: true }) : null;
  window.oknoPush = stream; // live reports (analytics/live.js) listen on this one connection too
  if (stream && notices) {
    stream.addEventListener("open", function () { notices.setAttribute("data-connected", "1"); });
    // A robot's notice: a deadline missed, a deal to look at. Text only: titles quote deals.
    stream.addEventListener("robot", function (event) {
      var data = JSON.parse(event.data);
      var note = line("div", "", "notice");
      note.appendChild(line("strong", data.title || ""));
      if (data.text) note.appendChild(line("div", data.text));
      if (data.url) {
        var open = line("a", data.title || data.url);
        open.href = data.url;
        note.replaceChild(open, note.firstChild);
      }
      var close = line("button", notices.getAttribute("data-close"), "notice-close");
      close.type = "button";
      close.addEventListener("click", function () { note.remove(); });
      note.appendChild(close);
      notices.prepend(note);
      while (notices.children.length > 5) notices.lastChild.remove();
    });
  }
  if (pop && stream) {
    var label = function (name) { return pop.getAttribute("data-" + name); };
    stream.addEventListener("open", function () { pop.setAttribute("data-connected", "1"); });
    stream.addEventListener("screen_pop", function (event) {
      var data = JSON.parse(event.data);
      pop.replaceChildren(line("strong", label("title")), line("div", data.number, "pop-number"));
      pop.setAttribute("data-call-id", data.call_id);
      if (data.new_customer) pop.appendChild(line("div", label("new-customer"), "badge"));
      if (data.contact) {
        var open = line("a", label("open") + ": " + data.contact.name, "pop-open");
        open.href = data.contact.url;
        pop.appendChild(open);
        if (data.contact.responsible) {
          pop.appendChild(line("div", label("responsible") + ": " + data.contact.responsible));
        }
      } else {
        pop.appendChild(line("div", label("unknown-card")));
      }
      var close = line("button", label("close"), "pop-close");
      close.type = "button";
      close.addEventListener("click", function () { pop.hidden = true; });
      pop.appendChild(close);
      pop.hidden = false;
    });
    // A call with the customer whose card is open (one this employee placed or took) changed:
    // the timeline shows it as it is now.
    stream.addEventListener("call", function (event) {
      var data = JSON.parse(event.data);
      var tab = document.getElementById("card-tab");
      if (!tab || !window.htmx || tab.getAttribute("data-contact-id") !== String(data.contact_id)) return;
      if (window.location.search.indexOf("tab=history") >= 0) return;
      window.htmx.ajax("GET", "?tab=timeline", { target: "#card-tab" });
    });
  }
})();
