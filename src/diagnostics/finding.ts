/**
 * A pre-flight finding: something about the model, the data or the pairs that changes how a
 * sweep's numbers may be read. Every diagnostic returns a list of these; the CLI prints them as
 * warnings on stderr and puts them in its JSON, and results.json stores them as they are.
 */

export type Severity = "info" | "warning" | "error";

/** Stable codes: tests, results.json readers and the report key on them. */
export type FindingCode =
  | "saturation"
  | "output-width"
  | "patch-identity"
  | "patch-everything"
  | "patch-batching"
  | "patch-no-op"
  | "small-family"
  | "single-pair"
  | "targets-dropped"
  | "pair-dependence";

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  /** One sentence a user can act on. */
  readonly message: string;
  /** The numbers behind the message (JSON-safe: no NaN, no typed arrays). */
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * One line per finding, for stderr.
 *
 * @example
 * formatFinding({ code: "saturation", severity: "warning", message: "…", detail: {} }); // "tspatch: warning [saturation] …"
 */
export function formatFinding(f: Finding): string {
  return `tspatch: ${f.severity} [${f.code}] ${f.message}`;
}
