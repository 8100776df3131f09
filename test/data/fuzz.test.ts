import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArff } from "../../src/data/arff-format.js";
import type { Dataset } from "../../src/data/dataset.js";
import { parseTs } from "../../src/data/ts-format.js";
import { InputError } from "../../src/errors.js";
import { BUNDLED_JV } from "./helpers.js";

/** mulberry32: a small seeded PRNG (deterministic fuzzing). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Header and the first `n` cases of a real file (small, so 300 parses stay fast). */
function head(file: string, n: number): Uint8Array {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const data = lines.findIndex((l) => l.trim().toLowerCase() === "@data");
  return new TextEncoder().encode(`${lines.slice(0, data + 1 + n).join("\n")}\n`);
}

const SPECIAL = [..."\n\r:,?.-+e@#()' \t0"];

function mutate(bytes: Uint8Array, random: () => number): { bytes: Uint8Array; what: string } {
  const pick = (n: number) => Math.floor(random() * n);
  // latin1 keeps one character per byte, so byte edits and line edits mix freely.
  let b = Buffer.from(bytes).toString("latin1");
  const steps: string[] = [];
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds && b.length > 0; r++) {
    const kind = pick(6);
    const at = pick(b.length);
    if (kind === 0) {
      const value = pick(256);
      b = b.slice(0, at) + String.fromCharCode(value) + b.slice(at + 1);
      steps.push(`set byte ${at}=${value}`);
    } else if (kind === 1) {
      const n = 1 + pick(20);
      b = b.slice(0, at) + b.slice(at + n);
      steps.push(`delete ${n} at ${at}`);
    } else if (kind === 2) {
      b = b.slice(0, at);
      steps.push(`truncate at ${at}`);
    } else if (kind === 4) {
      const c = SPECIAL[pick(SPECIAL.length)];
      b = b.slice(0, at) + c + b.slice(at);
      steps.push(`insert ${JSON.stringify(c)} at ${at}`);
    } else {
      const lines = b.split("\n");
      const i = pick(lines.length);
      if (kind === 3) {
        lines.splice(i, 0, lines[i]);
        steps.push(`duplicate line ${i + 1}`);
      } else {
        const j = pick(lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        steps.push(`swap lines ${i + 1},${j + 1}`);
      }
      b = lines.join("\n");
    }
  }
  return { bytes: Buffer.from(b, "latin1"), what: steps.join("; ") };
}

function checkValid(ds: Dataset): void {
  expect(ds.cases).toBeGreaterThan(0);
  expect(ds.channels).toBeGreaterThan(0);
  expect(ds.values.length).toBe(ds.cases * ds.maxLength * ds.channels);
  expect(ds.lengths.length).toBe(ds.cases);
  expect(ds.lengths.every((n) => n >= 1 && n <= ds.maxLength)).toBe(true);
  expect(ds.labelIndex.every((k) => k >= -1 && k < ds.labelMap.outputs)).toBe(true);
}

function toArff(ds: Dataset): Uint8Array {
  const lines = [`@relation ${ds.name}`, "@attribute relationalAtt relational"];
  for (let t = 1; t <= ds.maxLength; t++) lines.push(`@attribute att${t} numeric`);
  lines.push("@end relationalAtt", `@attribute classAttribute {${ds.classes.join(",")}}`, "@data");
  for (let i = 0; i < ds.cases; i++) {
    const rows: string[] = [];
    for (let c = 0; c < ds.channels; c++) {
      const row: string[] = [];
      for (let t = 0; t < ds.maxLength; t++)
        row.push(t < ds.lengths[i] ? String(ds.values[(i * ds.maxLength + t) * ds.channels + c]) : "?");
      rows.push(row.join(","));
    }
    lines.push(`'${rows.join("\\n")}',${ds.labels[i]}`);
  }
  return new TextEncoder().encode(`${lines.join("\n")}\n`);
}

describe("fuzz: corrupted real files give a valid dataset or an InputError, nothing else", () => {
  const jv = head(join(BUNDLED_JV, "JapaneseVowels_TRAIN.ts"), 8);
  const eq = head(join(BUNDLED_JV, "JapaneseVowels_eq_TEST.ts"), 4);
  const arff = toArff(parseTs(jv));
  const sources: [string, Uint8Array, (b: Uint8Array) => Dataset][] = [
    ["JapaneseVowels_TRAIN.ts", jv, (b) => parseTs(b, { file: "fuzz.ts" })],
    ["JapaneseVowels_eq_TEST.ts", eq, (b) => parseTs(b, { file: "fuzz.ts" })],
    ["JapaneseVowels_TRAIN.arff", arff, (b) => parseArff(b, { file: "fuzz.arff" })],
  ];

  // TSPATCH_FUZZ_ITERATIONS / TSPATCH_FUZZ_SEED run a longer or different campaign by hand.
  const iterations = Number(process.env.TSPATCH_FUZZ_ITERATIONS ?? 300);
  const seed = Number(process.env.TSPATCH_FUZZ_SEED ?? 20261125);
  it(`${iterations} seeded mutations (seed ${seed})`, () => {
    const random = rng(seed);
    const outcomes = { valid: 0, inputError: 0 };
    for (let iteration = 0; iteration < iterations; iteration++) {
      const [name, original, parse] = sources[iteration % sources.length];
      const { bytes, what } = mutate(original, random);
      try {
        checkValid(parse(bytes));
        outcomes.valid++;
      } catch (error) {
        if (!(error instanceof InputError)) {
          throw new Error(`iteration ${iteration} (${name}: ${what}) threw ${String(error)}`);
        }
        // every InputError names the file
        if (!error.message.startsWith("fuzz.")) throw new Error(`${name}: ${what}: ${error.message}`);
        outcomes.inputError++;
      }
    }
    // the corruption is strong enough to hit both outcomes
    expect(outcomes.valid).toBeGreaterThan(iterations / 30);
    expect(outcomes.inputError).toBeGreaterThan(iterations / 3);
  });
});
