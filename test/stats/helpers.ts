import { readFileSync } from "node:fs";
import { expect } from "vitest";

/** A fixture written by scripts/fixtures/stats_fixtures.py; the tests that read it check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON fixtures
export type Json = any;

/** Load a fixture from test/fixtures/stats, decoding "NaN"/"Infinity" strings to numbers. */
export function loadFixture<T = Json>(name: string): T {
  const text = readFileSync(new URL(`../fixtures/stats/${name}`, import.meta.url), "utf8");
  return JSON.parse(text, (_key, value) =>
    value === "NaN"
      ? Number.NaN
      : value === "Infinity"
        ? Infinity
        : value === "-Infinity"
          ? -Infinity
          : value,
  );
}

/** |actual - expected| <= rtol·|expected| + atol, with NaN == NaN and equal infinities. */
export function expectClose(actual: number, expected: number, rtol: number, atol = 0, label = ""): void {
  if (Number.isNaN(expected)) {
    expect(actual, label).toBeNaN();
    return;
  }
  if (!Number.isFinite(expected)) {
    expect(actual, label).toBe(expected);
    return;
  }
  const tolerance = rtol * Math.abs(expected) + atol;
  if (!(Math.abs(actual - expected) <= tolerance)) {
    expect.fail(
      `${label}: got ${actual}, expected ${expected} (|diff| ${Math.abs(actual - expected)} > ${tolerance})`,
    );
  }
}

/** Worst relative error seen, for reporting. */
export function relativeError(actual: number, expected: number): number {
  if (Number.isNaN(expected) && Number.isNaN(actual)) return 0;
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}
