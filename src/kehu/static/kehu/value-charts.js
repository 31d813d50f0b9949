/* The value dashboard's charts (ECharts, vendored). Every chart's data is also a table and a
   CSV download on the page, so nothing here is the only way to read a figure. */
(function () {
  "use strict";
  var source = document.getElementById("value-charts");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var font = getComputedStyle(document.documentElement).fontFamily;
  var palette = ["#1f5fbf", "#2e9e6b", "#d08a1a", "#b42318", "#6b4fbb", "#4a90a4"];
  var segmentColour = { invest: "#2e9e6b", develop: "#1f5fbf", maintain: "#d08a1a", minimise: "#98a2b3" };

  // Tooltips are drawn by the chart itself (richText), not as HTML: what they show is text,
  // so a customer's name stays a name, and the page's Content-Security-Policy, which allows
  // no inline style, has nothing to refuse.
  function tooltip(options) { return Object.assign({ renderMode: "richText" }, options); }
  function grid() { return { left: 64, right: 36, top: 40, bottom: 48, containLabel: true }; }
  // An axis title above the axis, starting at it: centred there, a long title would run
  // off the chart's left edge.
  // Amounts in the firm's currency, grouped as the page's language writes numbers.
  var cur = data.money || { symbol: "", lang: "en" };
  function money(v) {
    if (typeof v !== "number") { return String(v); }
    return (v < 0 ? "\u2212" : "") + cur.symbol + Math.abs(v).toLocaleString(cur.lang, { maximumFractionDigits: 0 });
  }
  function yName(name) { return { name: name, nameLocation: "end", nameGap: 14, nameTextStyle: { align: "left" } }; }

  var builders = {
    // The lead funnel: for each group (source, owner or month) a bar per step.
    funnel: function (d) {
      return { color: palette, textStyle: { fontFamily: font }, grid: grid(), tooltip: tooltip({ trigger: "axis" }),
        legend: { bottom: 0 }, xAxis: { type: "category", data: d.groups },
        yAxis: Object.assign({ type: "value", minInterval: 1 }, yName(d.y)),
        series: d.steps.map(function (s, i) { return { type: "bar", name: s, data: d.values[i] }; }) };
    },
    equity: function (d) {
      return { color: palette, textStyle: { fontFamily: font }, grid: grid(), tooltip: tooltip({ trigger: "axis", valueFormatter: money }),
        xAxis: { type: "category", data: d.labels }, yAxis: Object.assign({ type: "value" }, yName(d.y)),
        series: [{ type: "line", data: d.values, areaStyle: { opacity: 0.12 }, smooth: true }] };
    },
    segments: function (d) {
      return { color: d.keys.map(function (k) { return segmentColour[k] || "#6b4fbb"; }), textStyle: { fontFamily: font },
        tooltip: tooltip({ trigger: "item", valueFormatter: money }), legend: { bottom: 0, type: "scroll" },
        series: [{ type: "pie", radius: ["35%", "65%"], top: -20,
          data: d.labels.map(function (l, i) { return { name: l, value: d.values[i] }; }) }] };
    },
    // The points come as columns by segment (x, y, name, id); each point carries its
    // customer's name and id for the tooltip and the click.
    matrix: function (d) {
      var bySegment = {};
      Object.keys(d.series).forEach(function (s) {
        var c = d.series[s];
        bySegment[s] = c.x.map(function (x, i) { return [x, c.y[i], c.name[i], s, c.id[i]]; });
      });
      return { textStyle: { fontFamily: font }, grid: grid(),
        tooltip: tooltip({ formatter: function (p) { return p.data[2] + "\n" + money(p.data[0]) + " / " + money(p.data[1]); } }),
        legend: { bottom: 0 },
        xAxis: { type: "value", name: d.x, nameLocation: "middle", nameGap: 28, scale: true },
        yAxis: Object.assign({ type: "value", scale: true }, yName(d.y)),
        series: Object.keys(bySegment).map(function (s) {
          return { type: "scatter", name: (d.names || {})[s] || s, symbolSize: 6, data: bySegment[s],
            itemStyle: { color: segmentColour[s] || "#98a2b3", opacity: 0.7 } };
        }) };
    },
    whale: function (d) {
      return { color: palette, textStyle: { fontFamily: font }, grid: grid(), tooltip: tooltip({ trigger: "axis" }),
        xAxis: { type: "category", data: d.x, name: d.xname, nameLocation: "middle", nameGap: 28 },
        yAxis: Object.assign({ type: "value" }, yName(d.yname)),
        series: [{ type: "line", data: d.y, showSymbol: false, markLine: { silent: true, symbol: "none",
          label: { show: false }, data: [{ yAxis: 100 }] } }] };
    },
    holdout: function (d) {
      var last = d.labels[d.labels.length - 1];
      return { color: ["#101828"].concat(palette), textStyle: { fontFamily: font }, grid: grid(),
        tooltip: tooltip({ trigger: "axis" }), legend: { bottom: 0 },
        xAxis: { type: "category", data: d.labels, boundaryGap: false },
        yAxis: Object.assign({ type: "value" }, yName(d.y)),
        series: d.series.map(function (s, i) {
          var line = { type: "line", name: s.name, data: s.values, showSymbol: false,
            lineStyle: i === 0 ? { width: 3 } : { width: 2, type: "dashed" } };
          if (i === 0 && d.split) {
            line.markArea = { silent: true, itemStyle: { color: "rgba(31, 95, 191, 0.07)" },
              label: { position: "insideTop", color: "#475467" },
              data: [[{ name: d.holdout, xAxis: d.split }, { xAxis: last }]] };
          }
          return line;
        }) };
    },
    markov: function (d) {
      return { textStyle: { fontFamily: font }, grid: { left: 90, right: 20, top: 10, bottom: 90 },
        tooltip: tooltip({ formatter: function (p) { return d.labels[p.data[1]] + " → " + d.labels[p.data[0]] + ": " + (100 * p.data[2]).toFixed(1) + "%"; } }),
        xAxis: { type: "category", data: d.labels, splitArea: { show: true } },
        yAxis: { type: "category", data: d.labels, inverse: true, splitArea: { show: true } },
        visualMap: { min: 0, max: 1, calculable: true, orient: "horizontal", left: "center", bottom: 0,
          inRange: { color: ["#f5f8ff", "#1f5fbf"] } },
        series: [{ type: "heatmap", data: d.cells, label: { show: true, formatter: function (p) { return (100 * p.data[2]).toFixed(0) + "%"; } } }] };
    }
  };

  // Whoever asked the system for less motion gets the charts drawn at once.
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var name = el.getAttribute("data-chart");
    if (!data[name] || !builders[name]) { return; }
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    var option = builders[name](data[name]);
    option.animation = !still;
    chart.setOption(option);
    if (name === "matrix") {
      chart.on("click", function (p) {
        var id = p.data && Number(p.data[4]);
        if (id > 0 && Math.floor(id) === id) { window.location.href = "/customers/" + id + "/"; }
      });
    }
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
