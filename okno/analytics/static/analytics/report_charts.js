// The chats' and process reports' charts: bars per group and a line per day, from the page's JSON
// ({bars: {labels, series: [{name, data}]}, days: {...}}); no request of its own.
(function () {
  "use strict";
  function chart(id, part, type, bottom) {
    var el = document.getElementById(id);
    if (!el || !part || !part.labels.length) return;
    echarts.init(el).setOption({
      tooltip: {trigger: "axis"}, legend: {top: 4}, grid: {left: 40, right: 10, top: 40, bottom: bottom},
      xAxis: {type: "category", data: part.labels, axisLabel: type === "bar" ? {rotate: 35, interval: 0} : {}},
      yAxis: {type: "value", minInterval: 1},
      series: part.series.map(function (s) { return {name: s.name, type: type, data: s.data}; })
    });
  }
  function draw() {
    var node = document.getElementById("report-chart-data");
    if (!node || !window.echarts) return;
    var data = JSON.parse(node.textContent);
    chart("chart-bars", data.bars, "bar", 80);
    chart("chart-days", data.days, "line", 40);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
