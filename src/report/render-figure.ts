import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/**
 * A Vega-Lite spec → SVG text (vega's headless "none" renderer, no canvas or DOM) → PNG (resvg).
 *
 * Determinism: vega numbers its clip paths and gradients with process-wide counters; they are
 * reset before each render, so one spec gives the same bytes however many figures came before.
 */

/**
 * Render a Vega-Lite spec to SVG text.
 *
 * @example
 * const svg = await specToSvg({ data: { values: [{ x: 1 }] }, mark: "point", encoding: { x: { field: "x", type: "quantitative" } } });
 */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  vega.resetSVGDefIds();
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface PngOptions {
  /** Pixels per SVG unit (default 2, for sharp text on high-density screens and in print). */
  scale?: number;
}

/**
 * Rasterise SVG text to PNG bytes with the system's fonts.
 *
 * @example
 * writeFileSync("fig.png", svgToPng(svg));
 */
export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: options.scale ?? 2 },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}
