import { afterAll, describe, expect, it } from "vitest";
import { opDefs } from "../../src/graph/ops/registry.js";
import { differentiableCases, forwardOnlyCases } from "./cases.js";
import { checkForward, checkGradients, releaseRuntime, setUp } from "./op-check.js";

afterAll(releaseRuntime);

describe("forward: ONNX Runtime (float32) equals the float64 reference within 1e-6", () => {
  for (const c of [...differentiableCases, ...forwardOnlyCases]) {
    it(c.name, () => checkForward(c));
  }
});

describe("gradients: autodiff vs finite differences (ORT 1e-3, float64 reference 1e-6)", () => {
  for (const c of differentiableCases) {
    it(c.name, () => checkGradients(c));
  }
});

it("the cases (forward and backward graphs) exercise every op of the IR", () => {
  const used = new Set<string>();
  for (const c of [...differentiableCases, ...forwardOnlyCases]) {
    for (const node of setUp(c).graph.nodes) used.add(node.op);
  }
  expect(Object.keys(opDefs).filter((op) => !used.has(op))).toEqual([]);
});
