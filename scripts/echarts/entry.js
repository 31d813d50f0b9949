// The charts kehu draws, and nothing else: the series types and components that
// value-charts.js, forecast-chart.js, chain-charts.js, service-dashboard.js and
// pipeline-board.js use (all drawn with the SVG renderer). A page that needs another
// series type or component adds it here and runs scripts/build_echarts.sh.
import * as echarts from "echarts/core";
import { BarChart, HeatmapChart, LineChart, PieChart, ScatterChart } from "echarts/charts";
import {
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TooltipComponent,
  VisualMapContinuousComponent,
} from "echarts/components";
import { LabelLayout, LegacyGridContainLabel } from "echarts/features";
import { SVGRenderer } from "echarts/renderers";

echarts.use([
  BarChart, HeatmapChart, LineChart, PieChart, ScatterChart,
  GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TooltipComponent,
  VisualMapContinuousComponent, LabelLayout, LegacyGridContainLabel, SVGRenderer,
]);

export default echarts;
export * from "echarts/core";
