export { conv1d } from "./conv1d.js";
export { crossEntropy } from "./cross-entropy.js";
export { dropout } from "./dropout.js";
export { layerNorm } from "./layer-norm.js";
export { linear } from "./linear.js";
export { maskedFill } from "./masked-fill.js";
