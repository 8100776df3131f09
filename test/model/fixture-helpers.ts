import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { InputError } from "../../src/errors.js";
import type { Activation } from "../../src/model/hooked-tst.js";
import { readSafetensors, type StoredTensor } from "../../src/model/safetensors.js";

/** test/fixtures/model/<stem>.{json,safetensors} written by scripts/fixtures/model_fixtures.py. */
export function modelFixture(stem: string): {
  meta: Record<string, unknown>;
  tensors: Map<string, StoredTensor>;
} {
  const base = fileURLToPath(new URL(`../fixtures/model/${stem}`, import.meta.url));
  return {
    meta: JSON.parse(readFileSync(`${base}.json`, "utf8")) as Record<string, unknown>,
    tensors: readSafetensors(`${base}.safetensors`).tensors,
  };
}

export function f32(tensors: Map<string, StoredTensor>, name: string): Float32Array {
  const t = tensors.get(name);
  if (t === undefined) throw new Error(`fixture has no tensor ${name}`);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** Largest violation of |got − want| <= atol + rtol·|want| (≤ 0 means within tolerance), and where. */
export function closeness(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
): { ok: boolean; worst: number; at: number; got: number; want: number } {
  let worst = Number.NEGATIVE_INFINITY;
  let at = -1;
  if (got.length !== want.length)
    return { ok: false, worst: Number.POSITIVE_INFINITY, at: -1, got: got.length, want: want.length };
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(excess <= worst) || Number.isNaN(excess)) {
      worst = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      at = i;
      if (Number.isNaN(excess)) break;
    }
  }
  return { ok: worst <= 0, worst, at, got: got[at], want: want[at] };
}

/**
 * The activation tolerance of the model tests: |got − want| <= tol·|want| + tol·max(1, max|want|).
 * The absolute part scales with the tensor's largest value because float32 itself cannot do
 * better: PyTorch's own float32 forward differs from the float64 truth by up to 1.7e-5 on
 * attn.hook_z of the JapaneseVowels checkpoint (fixture JSON, float32_pytorch_vs_float64).
 */
export function activationClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5) {
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  return closeness(got, want, tol, tol * scale);
}

export function describe(a: Activation | undefined): string {
  return a === undefined ? "missing" : `[${a.dims}]`;
}

/** The InputError `f` throws (the test fails when it throws nothing or something else). */
export function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error("expected an InputError");
}
