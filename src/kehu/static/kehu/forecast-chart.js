/* The sales forecast's chart (ECharts, vendored): weighted pipeline and won as bars, the
   installed base's expected revenue as a line, by month. The same figures are the table on
   the page; tooltips are text (richText), never HTML built from data. */
(function () {
  "use strict";
  var source = document.getElementById("forecast-chart-data");
  var el = document.querySelector('[data-chart="forecast"]');
  if (!source || !el || !window.echarts) { return; }
  var d = JSON.parse(source.textContent);
  var font = getComputedStyle(document.documentElement).fontFamily;
  var cur = d.money || { symbol: "", lang: "en" };
  function money(v) {
    if (typeof v !== "number") { return "\u2014"; }
    return (v < 0 ? "\u2212" : "") + cur.symbol + Math.abs(v).toLocaleString(cur.lang, { maximumFractionDigits: 0 });
  }
  var colours = { weighted: "#1f5fbf", won: "#2e9e6b", base: "#d08a1a" };
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: !still,
    textStyle: { fontFamily: font },
    grid: { left: 64, right: 36, top: 40, bottom: 48, containLabel: true },
    tooltip: { renderMode: "richText", trigger: "axis", valueFormatter: money },
    legend: { bottom: 0 },
    xAxis: { type: "category", data: d.labels },
    yAxis: { type: "value", axisLabel: { formatter: money } },
    series: d.series.map(function (s) {
      var line = s.key === "base";
      return { type: line ? "line" : "bar", name: s.name, data: s.values, smooth: line,
        connectNulls: false, itemStyle: { color: colours[s.key] }, lineStyle: line ? { width: 3 } : undefined };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
