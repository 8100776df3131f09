import { writeFileAtomic } from "../atomic-write.js";
import { toOnnx } from "../graph/onnx.js";
import type { HookedTST } from "./hooked-tst.js";
import { buildTSTGraph } from "./tst-graph.js";

/**
 * A standalone ONNX model of a TST for stock ONNX Runtime (standard opset-17
 * ops only): input `x` float32 [batch, seqLen, channels] of raw values (the
 * model's normalisation is inside), input `mask` bool [batch, seqLen] (true =
 * real step; left out with `mask: false`, for full-length input), output
 * `logits` [batch, classes]. Weights are initializers. The model config, label map and
 * preprocessing are stored as metadata (`tspatch.config`, `tspatch.labelMap`,
 * `tspatch.preprocess`, JSON).
 *
 * @example
 * writeFileSync("model.onnx", exportOnnx(model, { mask: false }));
 * // python: onnxruntime.InferenceSession("model.onnx").run(["logits"], {"x": x})
 */
export function exportOnnx(model: HookedTST, options: { mask?: boolean } = {}): Uint8Array {
  const constants = new Map<string, Float32Array>(model.params);
  const feeds = model.weightFeeds();
  constants.set("pre.shift", feeds["pre.shift"].data as Float32Array);
  constants.set("pre.scale", feeds["pre.scale"].data as Float32Array);
  const { graph } = buildTSTGraph(model.config, { mask: options.mask ?? true, constants });
  return toOnnx(graph, {
    outputs: ["logits"],
    name: "tspatch-tst",
    metadata: {
      "tspatch.config": JSON.stringify(model.config),
      "tspatch.labelMap": JSON.stringify(model.labelMap),
      "tspatch.preprocess": JSON.stringify(model.preprocess),
    },
  });
}

/**
 * Write {@link exportOnnx} to a file atomically.
 *
 * @example
 * saveOnnx(model, "runs/jv/model/model.onnx");
 */
export function saveOnnx(model: HookedTST, path: string, options: { mask?: boolean } = {}): void {
  writeFileAtomic(path, exportOnnx(model, options));
}
