// Live report: when a call or a chat that this report may count ends, the server pushes
// `reports_changed` (okno/analytics/live.py) and the page re-fetches its table and chart data
// through htmx, then lets the page's chart script draw again. No reload, no polling.
(function () {
  "use strict";
  var WATCH_MS = 4 * 60 * 1000; // the server forgets a page not heard of for 10 minutes
  var DAY_MS = 24 * 3600 * 1000;
  var el = document.getElementById("report-live");
  if (!el || !window.htmx) return;
  var data = function (name) { return el.getAttribute("data-" + name) || ""; };
  // A period that ended before yesterday cannot change: a call counts on the day it started.
  var yesterday = new Date(Date.parse(data("today")) - DAY_MS).toISOString().slice(0, 10);
  if (data("to") && data("to") < yesterday) return;
  el.hidden = false;

  function watch() {
    var body = new URLSearchParams({topic: data("topic")});
    fetch(data("watch-url"), {method: "POST", body: body, credentials: "same-origin",
                              headers: {"X-CSRFToken": data("csrf")}}).catch(function () {});
  }
  watch();
  setInterval(watch, WATCH_MS);

  function redrawCharts() {
    // The page's own chart scripts (calls.js, ...) draw from the JSON just swapped in.
    document.querySelectorAll('script[src*="/analytics/"]').forEach(function (old) {
      var src = old.getAttribute("src");
      if (/echarts\.min\.js|live\.js/.test(src)) return;
      var again = document.createElement("script");
      again.src = src;
      again.onload = again.onerror = function () { again.remove(); };
      document.body.appendChild(again);
    });
  }

  var timer = null, busy = false, again = false, dirty = false;
  function refresh() {
    timer = null;
    if (document.hidden) { dirty = true; return; }
    if (busy) { again = true; return; }
    busy = true;
    window.htmx.ajax("GET", window.location.href, {
      source: el, target: data("target"), select: data("target"), swap: "outerHTML", selectOOB: data("oob")
    }).then(function () {
      redrawCharts();
      el.textContent = data("updated") + " " + new Date().toLocaleTimeString();
    }).finally(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && dirty) { dirty = false; refresh(); }
  });

  var notices = document.getElementById("notices") || document.getElementById("screen-pop");
  var stream = window.oknoPush ||
    (notices && window.EventSource ? new EventSource(notices.getAttribute("data-push-url"), {withCredentials: true}) : null);
  if (!stream) return;
  stream.addEventListener("reports_changed", function (event) {
    // The push's second is over after wait_ms: then every call of that second is in the answer.
    var wait = Math.max(0, Math.min(2000, (JSON.parse(event.data).wait_ms | 0)));
    if (timer === null) timer = setTimeout(refresh, wait);
  });
})();
