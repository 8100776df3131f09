/**
 * Seeded random numbers: the one generator (xoshiro128**) and the registry of the stream
 * numbers each random step of tspatch draws from.
 *
 * @example
 * import { random } from "tspatch";
 * const rng = new random.Rng(42);
 */
export { Rng } from "./rng.js";
export { streams } from "./streams.js";
