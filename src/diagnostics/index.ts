/**
 * Pre-flight diagnostics of a sweep: saturation, output width vs classes, patch sanity, small or
 * degenerate designs and pair dependence. Each returns typed findings (finding.ts); the sweep
 * command prints them on stderr and puts them in its JSON, the study stores them in results.json.
 * This layer sits above model/ and patching/ and below study/.
 *
 * @example
 * import { diagnostics } from "tspatch";
 * const findings = [...diagnostics.saturationFindings(result.baselines), ...diagnostics.dependenceFindings(pairs)];
 */
export {
  type DependenceSummary,
  dependenceFindings,
  designFindings,
  MIN_UNITS,
  pairDependence,
} from "./design.js";
export { type Finding, type FindingCode, formatFinding, type Severity } from "./finding.js";
export { outputWidthFindings } from "./output-width.js";
export { noOpFindings, type PatchSanityOptions, patchSanity } from "./patch-sanity.js";
export { CAPPED_METRICS, saturationFindings } from "./saturation.js";
export { sweepFindings } from "./sweep-findings.js";
