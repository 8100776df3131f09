import type { Config } from "vega-lite";

/**
 * The look shared by every figure. Fonts: the SVG names a list that browsers and resvg both
 * resolve (DejaVu Sans ships with Debian's fonts-dejavu-core, which CI installs).
 *
 * Colour: a diverging scheme for signed effects and a sequential one for magnitudes, both chosen
 * to stay readable in greyscale and for the common colour-vision deficiencies ("blueorange" and
 * "viridis", Vega's built-ins); significance is always a symbol as well, never colour alone.
 */

export const FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

/** Signed effects (mean ΔP, d_z): blue below zero, orange above, near-white at zero. */
export const DIVERGING_SCHEME = "blueorange";

/** Unsigned magnitudes (rank agreement, counts). */
export const SEQUENTIAL_SCHEME = "viridis";

/** The two directions (denoise, noise): Okabe–Ito blue and vermillion, safe for colour-vision deficiencies. */
export const DIRECTION_COLOURS = ["#0072B2", "#D55E00"];

/** Symbols for "significant after correction" (drawn filled) and "uncorrected only" (drawn open). */
export const SIGNIFICANCE_SHAPES = ["diamond", "circle"];

export const FIGURE_CONFIG: Config = {
  background: "white",
  padding: 8,
  font: FONT,
  title: { fontSize: 14, anchor: "start", subtitleFontSize: 11, subtitleColor: "#444" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal" },
  header: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: "normal" },
  view: { stroke: "#999" },
};

/** A legend title with its unit on a second line ("mean ΔP(true) (probability)" → two lines), so it is never cut off. */
export function legendTitle(label: string): string[] {
  const at = label.indexOf(" (");
  return at < 0 ? [label] : [label.slice(0, at), label.slice(at + 1)];
}
