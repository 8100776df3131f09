/**
 * Hierarchical FDR testing over a tree of hypotheses (Yekutieli [1]): test the root family with
 * Benjamini–Hochberg at level q; for every rejected hypothesis, test the family of its children
 * with BH at q; continue down the tree. A family is only tested when its parent was rejected, so
 * "positions within head L2H3" are only looked at when L2H3 itself was a discovery.
 *
 * For patching: layers → heads within selected layers → positions within selected heads. A node
 * without a test of its own (a layer in a table of heads) gets the Simes p-value of its children,
 * p = min_i m·p₍ᵢ₎/i [2], a valid test of "no child has an effect" under independence or
 * positive dependence [3].
 *
 * Error control: [1, Theorem 3.1] bounds the FDR of all discoveries in the tree by
 * 2 · δ* · q with δ* ≈ 1.44 for independent test statistics (the "universal bound", 2.88·q), and
 * [1, §3.2] approximates it by q · (families tested + discoveries) / (discoveries + 1); both are
 * reported. Flat BH over the leaves is the comparison; scripts/hierarchical-fdr.ts simulates both.
 *
 * References:
 * [1] D. Yekutieli, "Hierarchical false discovery rate-controlling methodology", JASA 103(481), 2008.
 * [2] R. J. Simes, "An improved Bonferroni procedure for multiple tests of significance",
 *     Biometrika 73(3), 1986.
 * [3] S. K. Sarkar, "Some probability inequalities for ordered MTP2 random variables: a proof of
 *     the Simes conjecture", Annals of Statistics 26(2), 1998.
 */
import { adjustPValues } from "./multiplicity.js";

/** A hypothesis and the hypotheses under it. */
export interface HypothesisNode {
  readonly name: string;
  /** Its own p-value; absent = the Simes combination of its children. */
  readonly pvalue?: number;
  readonly children?: readonly HypothesisNode[];
}

export interface HierarchicalDecision {
  readonly name: string;
  /** The family it was tested in: "root" or "children of <parent>". */
  readonly family: string;
  /** 0 for the root family. */
  readonly depth: number;
  readonly pvalue: number;
  /** "own" or "Simes of children". */
  readonly pvalueSource: "own" | "Simes of children";
  /** BH-adjusted within its family; NaN when the family was not tested. */
  readonly adjusted: number;
  /** False when its parent was not rejected (the family was never tested). */
  readonly tested: boolean;
  readonly rejected: boolean;
}

export interface HierarchicalResult {
  readonly q: number;
  /** Every node, parents before children (depth-first, input order). */
  readonly decisions: HierarchicalDecision[];
  readonly familiesTested: number;
  readonly discoveries: number;
  /** q · (families tested + discoveries) / (discoveries + 1), [1, §3.2]. */
  readonly fdrApproximation: number;
  /** 2 · 1.44 · q, [1, Theorem 3.1] for independent statistics. */
  readonly fdrBound: number;
}

/**
 * Simes' combined p-value of a family: min over i of m·p₍ᵢ₎/i (NaNs ignored; NaN if none).
 *
 * @example
 * simes([0.01, 0.04, 0.03]); // 0.03
 */
export function simes(pvalues: readonly number[]): number {
  const p = pvalues.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (p.length === 0) return Number.NaN;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < p.length; i++) best = Math.min(best, (p.length * p[i]) / (i + 1));
  return Math.min(1, best);
}

/**
 * Run Yekutieli's hierarchical BH over a forest (the root family is `roots`).
 *
 * @example
 * const tree = [{ name: "L0", children: [{ name: "L0H0", pvalue: 0.001 }, { name: "L0H1", pvalue: 0.6 }] }];
 * hierarchicalFdr(tree, 0.05).decisions.map((d) => [d.name, d.rejected]); // [["L0", true], ["L0H0", true], ["L0H1", false]]
 */
export function hierarchicalFdr(roots: readonly HypothesisNode[], q = 0.05): HierarchicalResult {
  if (!(q > 0 && q < 1)) throw new RangeError(`\`q\` must be in (0, 1), got ${q}`);
  const decisions: HierarchicalDecision[] = [];
  let familiesTested = 0;
  const visit = (family: readonly HypothesisNode[], label: string, depth: number, tested: boolean): void => {
    const pvalues = family.map(nodePValue);
    const adjusted = tested ? adjustPValues(pvalues, "bh", q).adjusted : null;
    if (tested && family.length > 0) familiesTested++;
    family.forEach((node, j) => {
      const rejected = adjusted !== null && adjusted[j] < q;
      decisions.push({
        name: node.name,
        family: label,
        depth,
        pvalue: pvalues[j],
        pvalueSource: node.pvalue === undefined ? "Simes of children" : "own",
        adjusted: adjusted === null ? Number.NaN : adjusted[j],
        tested,
        rejected,
      });
      if (node.children && node.children.length > 0) {
        visit(node.children, `children of ${node.name}`, depth + 1, rejected);
      }
    });
  };
  visit(roots, "root", 0, true);
  const discoveries = decisions.filter((d) => d.rejected).length;
  return {
    q,
    decisions,
    familiesTested,
    discoveries,
    fdrApproximation: (q * (familiesTested + discoveries)) / (discoveries + 1),
    fdrBound: 2 * 1.44 * q,
  };
}

function nodePValue(node: HypothesisNode): number {
  if (node.pvalue !== undefined) return node.pvalue;
  return simes((node.children ?? []).map(nodePValue));
}

const COMPONENT_NAME = /^L(\d+)(?:H(\d+)(?:P(\d+))?)?$/;

/**
 * The layer → head → position tree of component names `L{l}`, `L{l}H{h}`, `L{l}H{h}P{p}` (the
 * names `tspatch stats` gives head columns). Returns null when a name does not fit.
 *
 * @example
 * componentTree(["L0H0", "L0H1", "L1H0"], [0.01, 0.2, 0.5])?.length; // 2 layers
 */
export function componentTree(names: readonly string[], pvalues: ArrayLike<number>): HypothesisNode[] | null {
  interface Mutable {
    name: string;
    pvalue?: number;
    children: Mutable[];
  }
  const layers = new Map<number, Mutable>();
  const heads = new Map<string, Mutable>();
  const parsed = names.map((name) => COMPONENT_NAME.exec(name));
  if (parsed.some((m) => m === null)) return null;
  const layerOf = (l: number): Mutable => {
    let node = layers.get(l);
    if (!node) {
      node = { name: `L${l}`, children: [] };
      layers.set(l, node);
    }
    return node;
  };
  const headOf = (l: number, h: number): Mutable => {
    const key = `L${l}H${h}`;
    let node = heads.get(key);
    if (!node) {
      node = { name: key, children: [] };
      heads.set(key, node);
      layerOf(l).children.push(node);
    }
    return node;
  };
  parsed.forEach((m, j) => {
    const [, l, h, p] = m as RegExpExecArray;
    const layer = Number(l);
    if (h === undefined) layerOf(layer).pvalue = pvalues[j];
    else if (p === undefined) headOf(layer, Number(h)).pvalue = pvalues[j];
    else headOf(layer, Number(h)).children.push({ name: names[j], pvalue: pvalues[j], children: [] });
  });
  return [...layers.entries()].sort((a, b) => a[0] - b[0]).map(([, node]) => node);
}
