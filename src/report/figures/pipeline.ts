import type { TopLevelSpec } from "vega-lite";
import { FIGURE_CONFIG } from "../figure-theme.js";

/** One stage box of the pipeline diagram. */
export interface PipelineStage {
  /** Short name shown in bold, e.g. "sweeps". */
  readonly name: string;
  /** Up to two short lines of detail under it, e.g. ["24 heads, 3 layers", "3 MLPs"]. */
  readonly detail: readonly string[];
}

const BOX_W = 180;
const BOX_H = 66;
const GAP = 34;
const PER_ROW = 4;

/**
 * The pipeline diagram: the study's stages as boxes joined by arrows, left to right, wrapping
 * every four stages (the arrow then turns down and the next row runs right to left, so the
 * reading order stays a single path).
 *
 * @example
 * const spec = pipelineSpec([{ name: "data", detail: ["JapaneseVowels"] }, { name: "model", detail: ["trained"] }]);
 */
export function pipelineSpec(stages: readonly PipelineStage[]): TopLevelSpec {
  const boxes = stages.map((stage, i) => {
    const row = Math.floor(i / PER_ROW);
    const col = row % 2 === 0 ? i % PER_ROW : PER_ROW - 1 - (i % PER_ROW);
    const x = col * (BOX_W + GAP);
    const y = row * (BOX_H + GAP);
    return {
      step: `${i + 1}. ${stage.name}`,
      detail: stage.detail,
      x,
      y,
      x2: x + BOX_W,
      y2: y + BOX_H,
      row,
      col,
    };
  });
  const arrows = boxes.slice(1).map((b, i) => {
    const a = boxes[i];
    if (a.row === b.row) {
      const right = b.col > a.col;
      const x = right ? a.x2 : a.x;
      const x2 = right ? b.x : b.x2;
      return { x, y: a.y + BOX_H / 2, x2, y2: a.y + BOX_H / 2, angle: right ? 90 : 270 };
    }
    const cx = a.x + BOX_W / 2;
    return { x: cx, y: a.y2, x2: cx, y2: b.y, angle: 180 };
  });
  const rows = Math.max(1, Math.ceil(stages.length / PER_ROW));
  const width = Math.min(stages.length, PER_ROW) * (BOX_W + GAP) - GAP;
  const height = rows * (BOX_H + GAP) - GAP;
  // Diagram coordinates in pixels: identity scales without axes, y pointing down.
  const sx = (field: string) => ({
    field,
    type: "quantitative" as const,
    scale: { domain: [0, width], nice: false, zero: false },
    axis: null,
  });
  const sy = (field: string) => ({
    field,
    type: "quantitative" as const,
    scale: { domain: [height, 0], nice: false, zero: false },
    axis: null,
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: "The study pipeline",
      subtitle: "each stage writes its output atomically; --resume skips finished stages",
    },
    width,
    height,
    view: { stroke: null },
    layer: [
      {
        data: { values: boxes },
        mark: { type: "rect", fill: "#f2f2f2", stroke: "#333", strokeWidth: 1.2, cornerRadius: 4 },
        encoding: { x: sx("x"), x2: { field: "x2" }, y: sy("y"), y2: { field: "y2" } },
      },
      {
        data: { values: boxes },
        transform: [
          { calculate: `datum.x + ${BOX_W / 2}`, as: "cx" },
          { calculate: `datum.y + 20`, as: "ty" },
        ],
        mark: { type: "text", fontWeight: "bold", fontSize: 12 },
        encoding: { x: sx("cx"), y: sy("ty"), text: { field: "step" } },
      },
      {
        data: { values: boxes },
        transform: [
          { calculate: `datum.x + ${BOX_W / 2}`, as: "cx" },
          { calculate: `datum.y + 30`, as: "ty" },
        ],
        mark: { type: "text", fontSize: 10, color: "#333", baseline: "top", lineHeight: 13 },
        encoding: { x: sx("cx"), y: sy("ty"), text: { field: "detail" } },
      },
      {
        data: { values: arrows },
        mark: { type: "rule", strokeWidth: 1.5, color: "#333" },
        encoding: { x: sx("x"), x2: { field: "x2" }, y: sy("y"), y2: { field: "y2" } },
      },
      {
        data: { values: arrows },
        mark: { type: "point", shape: "triangle-up", filled: true, color: "#333", size: 60, opacity: 1 },
        encoding: {
          x: sx("x2"),
          y: sy("y2"),
          angle: { field: "angle", type: "quantitative", scale: null },
        },
      },
    ],
    config: FIGURE_CONFIG,
  };
}
