// The calls report's charts: bars per group, lines per day, % successful per day and the heat maps of
// inbound and missed calls by weekday and hour, from the page's JSON (no request of its own).
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
    var share = document.getElementById("chart-share");
    if (share) {
      echarts.init(share).setOption({
        tooltip: {trigger: "axis"}, legend: {top: 4}, grid: {left: 40, right: 10, top: 40, bottom: 40},
        xAxis: {type: "category", data: data.days.labels}, yAxis: {type: "value", min: 0, max: 100},
        series: [{name: n.successful_share, type: "line", data: data.days.successful_share, connectNulls: false}]
      });
    }
    heat("chart-heat-inbound", n.heat_inbound, data.heat.inbound, data.heat);
    heat("chart-heat-missed", n.heat_missed, data.heat.missed, data.heat);
  }
  // Weekday x hour of day; values are [hour, weekday index (Monday 0), calls].
  function heat(id, title, values, axes) {
    var el = document.getElementById(id);
    if (!el) return;
    var most = 0;
    values.forEach(function (v) { if (v[2] > most) most = v[2]; });
    echarts.init(el).setOption({
      title: {text: title, left: "center", top: 4, textStyle: {fontSize: 13}},
      tooltip: {position: "top"}, grid: {left: 40, right: 10, top: 36, bottom: 70},
      xAxis: {type: "category", data: axes.hours, splitArea: {show: true}},
      yAxis: {type: "category", data: axes.weekdays, inverse: true, splitArea: {show: true}},
      visualMap: {min: 0, max: Math.max(most, 1), calculable: true, orient: "horizontal", left: "center", bottom: 4},
      series: [{name: title, type: "heatmap", data: values, label: {show: false}}]
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
