/* The service–profit chain's charts (ECharts, vendored): satisfied and still buying, in per
   cent, as bars, and the average value as a line on its own axis, for each band of
   customers. The same figures are the tables on the page; tooltips are text (richText),
   never HTML built from data. */
(function () {
  "use strict";
  var source = document.getElementById("chain-charts");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var font = getComputedStyle(document.documentElement).fontFamily;
  var cur = data.money || { symbol: "", lang: "en" };
  var names = data.names;
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function money(v) {
    if (typeof v !== "number") { return "\u2014"; }
    return (v < 0 ? "\u2212" : "") + cur.symbol + Math.abs(v).toLocaleString(cur.lang, { maximumFractionDigits: 0 });
  }
  function percent(v) { return typeof v === "number" ? v.toLocaleString(cur.lang, { maximumFractionDigits: 1 }) + "%" : "\u2014"; }
  function tooltip(d, valueKey) {
    return function (items) {
      var i = items[0].dataIndex;
      return [d.labels[i],
        names.customers + ": " + d.customers[i].toLocaleString(cur.lang),
        names.satisfaction + ": " + percent(d.satisfaction[i]),
        names.retention + ": " + percent(d.retention[i]),
        names[valueKey] + ": " + money(d[valueKey][i])].join("\n");
    };
  }
  function option(d, valueKey) {
    return {
      animation: !still,
      color: ["#1f5fbf", "#2e9e6b", "#d08a1a"],
      textStyle: { fontFamily: font },
      grid: { left: 56, right: 72, top: 48, bottom: 56, containLabel: true },
      tooltip: { renderMode: "richText", trigger: "axis", formatter: tooltip(d, valueKey) },
      legend: { bottom: 0 },
      xAxis: { type: "category", data: d.labels },
      yAxis: [
        { type: "value", min: 0, max: 100, name: names.percent, nameLocation: "end", nameGap: 14,
          axisLabel: { formatter: "{value}%" } },
        { type: "value", name: names[valueKey], nameLocation: "end", nameGap: 14,
          nameTextStyle: { align: "right" }, axisLabel: { formatter: money }, splitLine: { show: false } }
      ],
      series: [
        { type: "bar", name: names.satisfaction, data: d.satisfaction },
        { type: "bar", name: names.retention, data: d.retention },
        { type: "line", name: names[valueKey], yAxisIndex: 1, data: d[valueKey], connectNulls: false,
          showSymbol: true, lineStyle: { width: 3 }, symbolSize: 8 }
      ]
    };
  }
  var charts = [];
  [["continuity", "value"], ["tenure", "clv"]].forEach(function (pair) {
    var el = document.querySelector('[data-chart="' + pair[0] + '"]');
    if (!el || !data[pair[0]]) { return; }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(option(data[pair[0]], pair[1]));
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
