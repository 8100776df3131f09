/**
 * tspatch report: figures (Vega-Lite → SVG → PNG), CSV/Markdown tables and the self-contained HTML
 * report, all drawn from a study's results.json; nothing here computes effects.
 *
 * @example
 * import { report } from "tspatch";
 * await report.writeReport("runs/JapaneseVowels"); // figures/, tables/, report.html
 */

export { type EffectSizeRow, effectSizeSpec } from "./figures/effect-sizes.js";
export { type HeadImportanceCell, headImportanceSpec } from "./figures/head-importance.js";
export { type PipelineStage, pipelineSpec } from "./figures/pipeline.js";
export { type PositionMapCell, positionMapSpec } from "./figures/position-map.js";
export { type FigureSpec, figureSpecs, type ReportFigure, renderFigures } from "./figures.js";
export { type PngOptions, specToSvg, svgToPng } from "./render-figure.js";
export { type ReportOptions, renderReport } from "./report-html.js";
export {
  type Cell,
  type Column,
  type Table,
  tableToCsv,
  tableToHtml,
  tableToMarkdown,
} from "./table-format.js";
export { reportTables } from "./tables.js";
export { type WrittenReport, writeReport, writeReportFrom } from "./write-report.js";
