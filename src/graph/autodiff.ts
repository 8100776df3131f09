import { check, shapeString, type Value } from "./ir.js";
import { add } from "./ops/add.js";
import { sameShape } from "./ops/broadcast.js";
import { expandAs } from "./ops/expand.js";
import { opDefs } from "./ops/registry.js";

/**
 * Reverse-mode autodiff on the IR: adds the backward nodes to the same graph
 * and returns d loss / d w for each w (same shapes as the w's).
 *
 * Nodes are already in topological order (insertion order), so one reverse
 * pass suffices; gradients from several uses of a value are summed.
 *
 * @example
 * const [dW] = grad(loss, [W]);
 * g.output("dW", dW);
 */
export function grad(loss: Value, wrt: readonly Value[]): Value[] {
  const graph = loss.graph;
  check(loss.rank === 0, () => `grad: loss must be a scalar, got shape ${shapeString(loss.shape)}`);
  // Values that depend on some w: only their gradients are worth accumulating.
  const live = new Set<number>(wrt.map((w) => w.id));
  for (const node of graph.nodes) {
    if (node.id > loss.id) break;
    if (node.inputs.some((v) => live.has(v.id))) live.add(node.output.id);
  }
  const grads = new Map<number, Value>([[loss.id, graph.scalar(1)]]);
  const nodesBeforeBackward = graph.nodes.filter((n) => n.id <= loss.id);
  for (let i = nodesBeforeBackward.length - 1; i >= 0; i--) {
    const node = nodesBeforeBackward[i];
    const g = grads.get(node.output.id);
    if (g === undefined || !node.inputs.some((v) => live.has(v.id))) continue;
    const inputGrads = opDefs[node.op].vjp(node, g);
    check(
      inputGrads.length === node.inputs.length,
      () =>
        `grad: VJP of ${node.op} returned ${inputGrads.length} gradients for ${node.inputs.length} inputs`,
    );
    node.inputs.forEach((input, k) => {
      const gi = inputGrads[k];
      if (gi === null || !live.has(input.id)) return;
      check(
        sameShape(gi.shape, input.shape),
        () =>
          `grad: VJP of ${node.op} gave shape ${shapeString(gi.shape)} for input ${k} of shape ${shapeString(input.shape)}`,
      );
      const previous = grads.get(input.id);
      grads.set(input.id, previous === undefined ? gi : add(previous, gi));
    });
  }
  return wrt.map((w) => grads.get(w.id) ?? expandAs(graph.scalar(0), w));
}
