/**
 * RAdam (Rectified Adam, Liu et al. [1]) with the exact semantics of PyTorch 1.13's
 * `torch.optim.RAdam` (single-tensor path, `torch/optim/radam.py`, `_single_tensor_radam`):
 *
 *     g   = grad + wd · p                        (L2 weight decay added to the gradient, not decoupled)
 *     m   = β1 m + (1 − β1) g ;  v = β2 v + (1 − β2) g²
 *     m̂   = m / (1 − β1^t)
 *     ρ∞  = 2 / (1 − β2) − 1 ;  ρt = ρ∞ − 2 t β2^t / (1 − β2^t)          (Eq. 5 of [1])
 *     ρt > 5:  r = sqrt((ρt − 4)(ρt − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρt))     (Eq. 6 of [1])
 *              p ← p − lr · m̂ · r · sqrt(1 − β2^t) / (sqrt(v) + ε)
 *     else:    p ← p − lr · m̂                                            (un-adapted momentum step)
 *
 * Parameters and moments are stored as float32, as in PyTorch. Each element's update is computed
 * in float64 and rounded once when stored, where PyTorch rounds after every float32 kernel; the
 * two agree to about one float32 ulp (checked against torch.optim.RAdam in
 * test/train/radam.test.ts), and the float64 arithmetic is ~3× faster in V8 than emulating each
 * float32 rounding with `Math.fround`. Scalars (bias corrections, ρt, r) are doubles as in PyTorch.
 *
 * [1] L. Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020.
 */

export interface RAdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Exponential decay rates of the moments (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to sqrt(v) (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0, as PyTorch). */
  weightDecay?: number;
}

/** Everything needed to continue an optimisation exactly (see {@link RAdam.saveState}). */
export interface RAdamState {
  /** Number of steps taken. */
  step: number;
  expAvg: Map<string, Float32Array>;
  expAvgSq: Map<string, Float32Array>;
}

/**
 * RAdam over named float32 parameters, updated in place.
 *
 * @example
 * const params = new Map([["w", Float32Array.from([1, 2])]]);
 * const opt = new RAdam(params, { lr: 1e-3, weightDecay: 1e-4 });
 * opt.step(new Map([["w", Float32Array.from([0.1, -0.2])]]));   // params.get("w") changed
 */
export class RAdam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();

  constructor(
    private readonly params: ReadonlyMap<string, Float32Array>,
    options: RAdamOptions = {},
  ) {
    this.lr = options.lr ?? 1e-3;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    validate(this);
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.t;
  }

  /**
   * One optimisation step: every parameter must have a gradient of the same length.
   * Throws (before changing anything) if one is missing or has the wrong length.
   */
  step(grads: ReadonlyMap<string, Float32Array>): void {
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (g === undefined) throw new Error(`RAdam.step: no gradient for parameter "${name}"`);
      if (g.length !== p.length) {
        throw new Error(
          `RAdam.step: gradient of "${name}" has ${g.length} elements, parameter has ${p.length}`,
        );
      }
    }
    this.t += 1;
    const t = this.t;
    const { beta1, beta2, lr, eps, weightDecay } = this;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * t * beta2 ** t) / bc2;
    const rectified = rhoT > 5;
    const rect = rectified
      ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT))
      : 0;
    // Per element: p ← p − step · m (un-adapted) or p − step · m / (sqrt(v) + ε) (rectified), with
    // the bias corrections folded into `step`; m and v are the stored float32 moments, as PyTorch's.
    const step = rectified ? (lr * rect * Math.sqrt(bc2)) / bc1 : lr / bc1;
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    for (const [name, p] of this.params) {
      const g = grads.get(name)!;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const n = p.length;
      for (let i = 0; i < n; i++) {
        const gi = g[i] + weightDecay * p[i];
        m[i] = beta1 * m[i] + a1 * gi;
        v[i] = beta2 * v[i] + a2 * gi * gi;
      }
      if (rectified) for (let i = 0; i < n; i++) p[i] -= (step * m[i]) / (Math.sqrt(v[i]) + eps);
      else for (let i = 0; i < n; i++) p[i] -= step * m[i];
    }
  }

  /** A copy of the optimiser state (step count and both moments). */
  saveState(): RAdamState {
    return {
      step: this.t,
      expAvg: new Map([...this.m].map(([k, a]) => [k, a.slice()])),
      expAvgSq: new Map([...this.v].map(([k, a]) => [k, a.slice()])),
    };
  }

  /** Restore a state saved by {@link saveState} (same parameter names and sizes). */
  loadState(state: RAdamState): void {
    for (const [name, p] of this.params) {
      const m = state.expAvg.get(name);
      const v = state.expAvgSq.get(name);
      if (m === undefined || v === undefined || m.length !== p.length || v.length !== p.length) {
        throw new Error(`RAdam.loadState: state for parameter "${name}" is missing or has the wrong size`);
      }
      this.m.get(name)!.set(m);
      this.v.get(name)!.set(v);
    }
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new Error(`RAdam.loadState: step must be a non-negative integer, got ${state.step}`);
    }
    this.t = state.step;
  }
}

function validate(o: RAdam): void {
  const bad = (what: string, value: number, want: string) =>
    new RangeError(`RAdam: \`${what}\` must be ${want}, got ${value}`);
  if (!(o.lr > 0 && Number.isFinite(o.lr))) throw bad("lr", o.lr, "a positive finite number");
  if (!(o.beta1 >= 0 && o.beta1 < 1)) throw bad("betas[0]", o.beta1, "in [0, 1)");
  if (!(o.beta2 >= 0 && o.beta2 < 1)) throw bad("betas[1]", o.beta2, "in [0, 1)");
  if (!(o.eps >= 0 && Number.isFinite(o.eps))) throw bad("eps", o.eps, "a non-negative finite number");
  if (!(o.weightDecay >= 0 && Number.isFinite(o.weightDecay))) {
    throw bad("weightDecay", o.weightDecay, "a non-negative finite number");
  }
}
