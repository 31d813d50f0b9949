/* The service dashboard's chart (ECharts, vendored): tickets and complaints by month as bars,
   the estimate of silent dissatisfied customers (complaints × the factor) as a line on its
   own axis, and, once surveys are answered, CSAT and NPS. The same figures are the table on
   the page; tooltips are text (richText), never HTML built from data. */
(function () {
  "use strict";
  var source = document.getElementById("service-dashboard-charts");
  var el = document.querySelector('[data-chart="complaints"]');
  if (!source || !el || !window.echarts) { return; }
  var d = JSON.parse(source.textContent);
  var font = getComputedStyle(document.documentElement).fontFamily;
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function count(v) { return typeof v === "number" ? v.toLocaleString(d.lang) : "\u2014"; }
  var series = [
    { type: "bar", name: d.names.tickets, data: d.tickets, itemStyle: { color: "#98a2b3" } },
    { type: "bar", name: d.names.complaints, data: d.complaints, itemStyle: { color: "#b42318" } },
    { type: "line", name: d.names.silent, data: d.silent, yAxisIndex: 1, showSymbol: true,
      lineStyle: { width: 3, type: "dashed" }, itemStyle: { color: "#d08a1a" } }
  ];
  var yAxis = [
    { type: "value", minInterval: 1, axisLabel: { formatter: count } },
    { type: "value", minInterval: 1, name: d.names.silent, nameLocation: "end", nameGap: 14,
      nameTextStyle: { align: "right" }, axisLabel: { formatter: count }, splitLine: { show: false } }
  ];
  if (d.csat && d.csat.some(function (v) { return typeof v === "number"; })) {
    yAxis.push({ type: "value", min: -100, max: 100, show: false });
    series.push({ type: "line", name: d.names.csat + " (%)", data: d.csat, yAxisIndex: 2,
      connectNulls: true, itemStyle: { color: "#2e9e6b" } });
    series.push({ type: "line", name: d.names.nps, data: d.nps, yAxisIndex: 2,
      connectNulls: true, itemStyle: { color: "#1f5fbf" } });
  }
  var chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: !still,
    textStyle: { fontFamily: font },
    grid: { left: 48, right: 72, top: 48, bottom: 56, containLabel: true },
    tooltip: { renderMode: "richText", trigger: "axis", valueFormatter: count },
    legend: { bottom: 0 },
    xAxis: { type: "category", data: d.labels },
    yAxis: yAxis,
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
