/** @file `tg.viz`: pictures of the autograd graph behind a tensor (a plain description, Graphviz DOT, standalone SVG), charts (plot, histogram, image grids, learning curves) and SVG → PNG. */
export { graphToDot, type RenderOptions } from "./dot.ts";
export {
  describeGraph,
  type GraphDescription,
  type GraphEdge,
  type GraphNode,
  type GraphOptions,
  type OpGraphNode,
  type TensorGraphNode,
  type TensorNames,
} from "./graph.ts";
export { graphToSvg } from "./svg.ts";
export { type HistoryValues, type LearningCurveOptions, learningCurveSpec, learningCurveSvg } from "./learning-curve.ts";
export {
  COLORS,
  figure,
  formatTick,
  type HistogramOptions,
  type HistogramSeries,
  histogram,
  histogramCounts,
  type ImageGridOptions,
  imageGrid,
  type LegendPosition,
  niceTicks,
  type PlotOptions,
  plot,
  type Scale,
  type Series,
} from "./plot.ts";
export { imageToGray, type SvgToPngOptions, svgToPng } from "./png.ts";
export { pixelsToSvg, type ReportSample, type TrainingReport, trainingReportHtml } from "./report.ts";
