/**
 * Gauss–Legendre quadrature nodes and weights on [0, 1]: ∫₀¹ f ≈ Σ w_i f(x_i), exact for
 * polynomials of degree ≤ 2n − 1. The roots of P_n are found by Newton's method from
 * cos(π(i − 1/4)/(n + 1/2)), P_n and P_n' by the three-term recurrence, and
 * w = 2 / ((1 − x²) P_n'(x)²) on [−1, 1] (Abramowitz & Stegun 25.4.29; Press et al.,
 * Numerical Recipes 3rd ed., §4.6.1, `gauleg`), then mapped to [0, 1].
 *
 * @example
 * const { nodes, weights } = gaussLegendre(2); // nodes 0.5 ∓ 0.5/√3, weights 0.5
 */
export function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  if (!(Number.isInteger(n) && n >= 1))
    throw new RangeError(`gaussLegendre: n must be a positive integer, got ${n}`);
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (n === 1) p0 = 1;
      // P_n'(x) = n (x P_n − P_{n−1}) / (x² − 1)
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / derivative;
      x -= step;
      if (Math.abs(step) < 1e-15) break;
    }
    const w = 2 / ((1 - x * x) * derivative * derivative);
    nodes[i] = (1 - x) / 2;
    nodes[n - 1 - i] = (1 + x) / 2;
    weights[i] = w / 2;
    weights[n - 1 - i] = w / 2;
  }
  return { nodes, weights };
}
