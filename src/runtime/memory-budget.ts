import { freemem } from "node:os";
import { inputError } from "../errors.js";

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
};

const FORMS =
  "a number with a unit: 512MiB, 2GiB, 1.5GB, 800M (B, KB/MB/GB = 1000ⁿ, KiB/MiB/GiB or K/M/G = 1024ⁿ)";

/**
 * A memory size as a user writes it (`2GiB`, `512MiB`, `1.5GB`) in bytes; a bad form is an
 * input error naming the flag and the valid forms.
 *
 * @example
 * parseMemorySize("512MiB", "--memory-budget"); // 536870912
 */
export function parseMemorySize(text: string, field: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match === null ? undefined : UNITS[match[2].toLowerCase() || "b"];
  // A bare number is rejected: bytes are never what someone meant by "--memory-budget 4".
  if (match === null || unit === undefined || match[2] === "") {
    throw inputError(`cannot read "${text}" as a memory size`, { field, hint: `use ${FORMS}` });
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!(bytes > 0))
    throw inputError(`a memory size must be above 0, got "${text}"`, { field, hint: `use ${FORMS}` });
  return bytes;
}

/**
 * The budget when none is given: half the memory free now, at most 4 GiB, so a command leaves
 * room for everything else on a laptop.
 */
export function defaultMemoryBudget(free: number = freemem()): number {
  return Math.min(4 * 2 ** 30, Math.floor(free / 2));
}

/** Bytes as a person reads them: `1.50 GiB`, `312 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  return `${Math.ceil(bytes / 2 ** 10)} KiB`;
}
