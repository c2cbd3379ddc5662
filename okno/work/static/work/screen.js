// The manager screen: the wrap-up countdown, and the push stream's news about this manager's
// calls (the item's call changed: redraw it) and queue (counters). The stream is okno.js's one
// connection (window.oknoPush); everything else is htmx in the templates.
(function () {
  var body = document.body;
  var fire = function (name) { body.dispatchEvent(new Event(name)); };

  // The countdown only shows the seconds left; the next item is requested by the panel itself
  // (hx-trigger "load delay"), so a slow tab cannot skip or double it.
  window.setInterval(function () {
    document.querySelectorAll(".screen-countdown").forEach(function (el) {
      var left = parseInt(el.textContent, 10);
      if (left > 0) el.textContent = String(left - 1);
    });
  }, 1000);

  var stream = window.oknoPush;
  if (!stream) return;
  stream.addEventListener("call", function (event) {
    var data = JSON.parse(event.data);
    var current = document.getElementById("screen-current");
    if (current && current.getAttribute("data-contact-id") === String(data.contact_id)) fire("okno-call-changed");
    fire("okno-work-changed");
  });
  // An inbound call pops over the current item (okno.js draws the pop); the queue may have grown.
  stream.addEventListener("screen_pop", function (event) {
    var data = JSON.parse(event.data);
    var current = document.getElementById("screen-current");
    var pop = document.getElementById("screen-pop");
    if (pop) {
      var theirs = current && data.contact && current.getAttribute("data-contact-id") === String(data.contact.id);
      pop.classList.toggle("pop-current-customer", Boolean(theirs));
    }
    fire("okno-work-changed");
  });
  // An item landed in the queue (okno/work/queue_live.py): the counters are re-read within
  // REFRESH_MS, once for a burst of items, however many arrive meanwhile.
  var REFRESH_MS = 1500;
  var pending = null;
  stream.addEventListener("work", function () {
    if (pending) return;
    pending = window.setTimeout(function () { pending = null; fire("okno-work-changed"); }, REFRESH_MS);
  });
})();
