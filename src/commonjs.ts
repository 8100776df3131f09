import { createRequire } from "node:module";

/**
 * `require` for the CommonJS packages tspatch depends on (onnx-proto, onnxruntime-node,
 * pickleparser, commander). An ESM `import` of a CommonJS module first scans its whole source for
 * export names (Node's cjs-module-lexer), which for onnx-proto's generated 330 kB file cost about
 * three times loading it; `require` skips the scan. Every small command pays it at start-up.
 *
 * @example
 * const { onnx } = requireCommonJs("onnx-proto") as typeof import("onnx-proto");
 */
export const requireCommonJs = createRequire(import.meta.url);
