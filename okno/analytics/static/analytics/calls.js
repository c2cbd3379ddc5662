// The calls report's charts: bars per group and a line per day, from the page's JSON (no request of its own).
(function () {
  "use strict";
  function draw() {
    var node = document.getElementById("report-chart-data");
    if (!node || !window.echarts) return;
    var data = JSON.parse(node.textContent), n = data.names;
    var bars = document.getElementById("chart-bars");
    if (bars) {
      echarts.init(bars).setOption({
        tooltip: {trigger: "axis"}, legend: {top: 4}, grid: {left: 40, right: 10, top: 40, bottom: 80},
        xAxis: {type: "category", data: data.bars.labels, axisLabel: {rotate: 35, interval: 0}},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: n.calls, type: "bar", data: data.bars.calls},
                 {name: n.successful, type: "bar", data: data.bars.successful},
                 {name: n.missed, type: "bar", data: data.bars.missed}]
      });
    }
    var days = document.getElementById("chart-days");
    if (days) {
      echarts.init(days).setOption({
        tooltip: {trigger: "axis"}, legend: {top: 4}, grid: {left: 40, right: 10, top: 40, bottom: 40},
        xAxis: {type: "category", data: data.days.labels}, yAxis: {type: "value", minInterval: 1},
        series: [{name: n.calls, type: "line", data: data.days.calls},
                 {name: n.successful, type: "line", data: data.days.successful},
                 {name: n.missed, type: "line", data: data.days.missed}]
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
