// Supervisor board, live: a push (`work_board`, okno/work/board_live.py) says a manager changed
// state; the row is patched at once, and the counters (queue, done today) are re-fetched through
// htmx at most every COUNTERS_MS. The "since" column counts up every second. Text only.
(function () {
  "use strict";
  var COUNTERS_MS = 2000;
  var FALLBACK_MS = 30000; // new queue items arrive without a state change: re-read now and then
  var board = document.getElementById("work-board");
  if (!board) return;
  var labels = {};
  try { labels = JSON.parse(board.getAttribute("data-labels")); } catch (e) { labels = {}; }

  function elapsed(iso) {
    var s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }
  function tick() {
    board.querySelectorAll("[data-since]").forEach(function (cell) {
      var iso = cell.getAttribute("data-since");
      if (iso) cell.textContent = elapsed(iso);
    });
  }
  tick();
  setInterval(tick, 1000);

  var timer = null, last = 0;
  function refresh() {
    timer = null;
    last = Date.now();
    if (!window.htmx) return;
    window.htmx.ajax("GET", board.getAttribute("data-counters-url"),
                     {target: "#board-counters", swap: "outerHTML"});
  }
  function soon() {
    if (timer !== null) return;
    timer = setTimeout(refresh, Math.max(0, COUNTERS_MS - (Date.now() - last)));
  }
  setInterval(soon, FALLBACK_MS);

  var notices = document.getElementById("notices") || document.getElementById("screen-pop");
  var stream = window.oknoPush ||
    (notices && window.EventSource ? new EventSource(notices.getAttribute("data-push-url"), {withCredentials: true}) : null);
  if (!stream) return;
  stream.addEventListener("work_board", function (event) {
    var data = JSON.parse(event.data);
    var row = document.getElementById("agent-" + (data.user_id | 0));
    if (row) {
      row.setAttribute("data-state", data.state);
      var badge = row.querySelector(".agent-state .badge");
      if (badge) {
        badge.textContent = labels[data.state] || data.state;
        badge.className = "badge state-" + data.state;
      }
      var since = row.querySelector(".agent-since");
      if (since) { since.setAttribute("data-since", data.since); since.textContent = elapsed(data.since); }
      row.setAttribute("data-pushed", String(Date.now()));
    }
    soon();
  });
})();
