import { describe, expect, it } from "vitest";
import { atpScatterSpec, baselineRhoSpec } from "../../src/report/figures/baselines.js";
import { effectSizeSpec } from "../../src/report/figures/effect-sizes.js";
import {
  type HeadImportanceCell,
  headImportanceSpec,
  symmetricDomain,
} from "../../src/report/figures/head-importance.js";
import { pipelineSpec } from "../../src/report/figures/pipeline.js";
import { positionMapSpec } from "../../src/report/figures/position-map.js";
import { randomNullSpec } from "../../src/report/figures/random-null.js";
import { sensitivitySpec } from "../../src/report/figures/sensitivity.js";
import { stabilitySpec } from "../../src/report/figures/stability.js";
import { specToSvg, svgToPng } from "../../src/report/render-figure.js";
import { darkPixels, decodePng } from "./png-decode.js";

// Shapes of input for the renderer only (the report tests use numbers computed by the stats engine).
const heads: HeadImportanceCell[] = ["denoise", "noise"].flatMap((direction, d) =>
  Array.from({ length: 24 }, (_, i) => ({
    direction,
    layer: Math.floor(i / 8),
    head: i % 8,
    mean: (d === 0 ? 1 : -0.5) * ((i % 5) / 10),
    significant: i % 4 === 0,
    significantNaive: i % 2 === 0,
  })),
);
const fig1 = () => headImportanceSpec(heads, { effectLabel: "mean ΔP(true)", correctionLabel: "BH" });
const fig4 = () =>
  effectSizeSpec(
    heads.map((c) => ({
      direction: c.direction,
      name: `L${c.layer}H${c.head}`,
      dz: c.mean * 4,
      low: c.mean * 4 - 0.5,
      high: c.mean * 4 + 0.5,
      significant: c.significant,
    })),
    { level: 0.95, correctionLabel: "BH" },
  );
const positions = () =>
  positionMapSpec(
    heads.flatMap((c) =>
      Array.from({ length: 6 }, (_, position) => ({
        direction: c.direction,
        head: `L${c.layer}H${c.head}`,
        position,
        mean: position === 5 ? null : c.mean / (position + 1),
        significant: position === 0 && c.significant,
      })),
    ),
    { effectLabel: "mean ΔP(true)", correctionLabel: "BH" },
  );
const pipeline = () =>
  pipelineSpec(
    ["data", "model", "pairs", "sweeps", "statistics"].map((name) => ({ name, detail: [`${name} detail`] })),
  );
const fig2a = () =>
  atpScatterSpec(
    heads.map((c) => ({
      direction: c.direction,
      name: `L${c.layer}H${c.head}`,
      exact: c.mean,
      atp: c.mean * 0.9,
    })),
    { effectLabel: "mean ΔP(true) (probability)" },
  );
const fig2b = () =>
  baselineRhoSpec(
    ["atp", "integrated gradients", "attention entropy"].flatMap((baseline, i) =>
      ["denoise", "noise"].map((direction) => ({
        direction,
        baseline,
        rho: 0.9 - i * 0.4,
        low: 0.7 - i * 0.4,
        high: 0.95 - i * 0.4,
      })),
    ),
    { level: 0.95 },
  );
const fig3 = () =>
  stabilitySpec(
    ["gaussian", "shift"].flatMap((kind) =>
      [1, 2].flatMap((strength) =>
        ["denoise", "noise"].map((direction) => ({
          direction,
          kind,
          strength,
          rho: 0.9 / strength,
          low: 0.8 / strength,
          high: 0.95 / strength,
          flagged: kind === "shift" && strength === 2,
        })),
      ),
    ),
    { level: 0.95 },
  );
const fig5 = () =>
  randomNullSpec(
    [
      { name: "L0H3", observed: 0.2, p: 0.02, nullMeans: [0.01, 0.02, 0.05, 0.03] },
      { name: "L2H1", observed: 0.04, p: 0.4, nullMeans: [0.02, 0.06, 0.05, 0.03] },
    ],
    { effectLabel: "mean |ΔP(true)| (probability)" },
  );

const variants = ["misclassified · dp_true", "misclassified · kl", "cross-class · dp_true"];
const fig6 = () =>
  sensitivitySpec(
    [
      { direction: "denoise", a: variants[0], b: variants[1], rho: 0.8, low: 0.5, high: 0.9 },
      { direction: "denoise", a: variants[0], b: variants[2], rho: -0.4, low: -0.7, high: 0.1 },
      { direction: "denoise", a: variants[1], b: variants[2], rho: 0.1, low: null, high: null },
      { direction: "noise", a: variants[0], b: variants[1], rho: 0.3, low: 0.05, high: 0.6 },
    ],
    variants,
    { level: 0.95 },
  );

describe("figure specs → SVG", () => {
  it.each([
    ["head importance", fig1, ["layer", "head", "mean ΔP(true)", "significant (BH)", "denoise", "noise"]],
    ["effect sizes", fig4, ["Cohen's d_z (standard deviations)", "L2H7", "95% CI", "not significant"]],
    ["position map", positions, ["time step (model position, 0 = first step)", "L0H0", "not applicable"]],
    ["pipeline", pipeline, ["1. data", "5. statistics", "sweeps detail"]],
    [
      "AtP vs exact",
      fig2a,
      ["AtP: mean ΔP(true) (probability)", "exact: mean ΔP(true) (probability)", "denoise"],
    ],
    [
      "baseline agreement",
      fig2b,
      ["Spearman ρ with exact patching (rank correlation)", "integrated gradients", "95% bootstrap CI"],
    ],
    [
      "stability",
      fig3,
      ["Spearman ρ (rank correlation)", "shift", "accuracy dropped (flagged)", "perturbation strength"],
    ],
    ["random-patching null", fig5, ["L0H3 (p = 0.020)", "mean |ΔP(true)| (probability)", "draws (count)"]],
    [
      "sensitivity",
      fig6,
      [
        "variant (pair strategy · metric)",
        "cross-class · dp_true",
        "noise direction",
        "[-0.70, 0.10]",
        "[n/a]",
        "Spearman ρ",
      ],
    ],
  ])("%s compiles and its SVG carries the titles and labels", async (_, make, texts) => {
    const svg = await specToSvg(make());
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of texts) expect(svg.includes(text), text).toBe(true);
  });

  it("is deterministic: the same spec gives the same bytes, whatever was rendered before", async () => {
    const first = await specToSvg(fig1());
    await specToSvg(fig4()); // advances vega's clip-path and gradient counters
    await specToSvg(positions());
    expect(await specToSvg(fig1())).toBe(first);
  });

  it("draws cells that were never patchable (padding) grey, not as a zero effect", async () => {
    const svg = await specToSvg(positions());
    // position 5 of each of the 48 (direction, head) rows is padding
    expect(svg.split('fill="#bdbdbd"').length - 1).toBe(48);
  });

  it("marks significance by symbol as well as colour, on a zero-centred diverging scale", async () => {
    const svg = await specToSvg(fig1());
    // one symbol per significant head: 6 corrected and 6 uncorrected-only in each of the 2 panels
    const count = (label: string) => svg.split(`mark: ${label}"`).length - 1;
    expect(count("significant (BH)")).toBe(12);
    expect(count("significant uncorrected only")).toBe(12);
    expect(symmetricDomain([0.2, -0.5, Number.NaN])).toEqual([-0.5, 0.5]);
    expect(symmetricDomain([])).toEqual([-1, 1]);
  });
});

describe("SVG → PNG", () => {
  it("decodes, at twice the SVG size, with drawn pixels", async () => {
    const svg = await specToSvg(fig1());
    const png = decodePng(svgToPng(svg));
    const [, w, h] = svg.match(/width="(\d+)" height="(\d+)"/)!.map(Number);
    expect([png.width, png.height]).toEqual([2 * w, 2 * h]);
    expect(darkPixels(png)).toBeGreaterThan(0.05 * png.width * png.height);
  });

  it("renders text with a system font (a text-only SVG is not blank)", () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="4" y="28" font-family="DejaVu Sans, sans-serif" font-size="20">layer × head</text></svg>';
    const png = decodePng(svgToPng(svg, { scale: 1 }));
    expect(darkPixels(png)).toBeGreaterThan(100);
  });
});
