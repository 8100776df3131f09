import type { ReportFigure } from "../figures.js";
import { html, type SafeHtml } from "../html.js";

/**
 * A figure as an `<img>` with its SVG inlined as a data URI. An image (not inline `<svg>`) keeps
 * each figure's clip-path and gradient ids in its own document, so figures cannot clash, and
 * needs no script or network.
 *
 * @example
 * html`<section>${figureHtml(figures[0])}</section>`;
 */
export function figureHtml(figure: ReportFigure): SafeHtml {
  const size = figure.svg.match(/<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/);
  const src = `data:image/svg+xml;base64,${Buffer.from(figure.svg, "utf8").toString("base64")}`;
  return html`<figure class="figure" id="${figure.id}">
<img src="${src}" alt="${figure.title}. ${figure.caption}"${size ? html` width="${display(size[1])}" height="${display(size[2])}"` : ""}>
<figcaption><strong>${figure.title}.</strong> ${figure.caption} <span class="files">(${figure.files.svg}, ${figure.files.png})</span></figcaption>
</figure>
`;
}

/** Figures are drawn at 11–12 px text; shown a quarter larger they read like the report's text (CSS caps the width). */
const DISPLAY_SCALE = 1.25;

function display(size: string): number {
  return Math.round(Number(size) * DISPLAY_SCALE);
}

/** The figure with this id, if the study produced it. */
export function findFigure(figures: readonly ReportFigure[], id: string): ReportFigure | undefined {
  return figures.find((f) => f.id === id);
}
