import { check, shapeString, type Value } from "../ir.js";
import { logSoftmax } from "../ops/log-softmax.js";
import { mul, neg } from "../ops/mul.js";
import { reduceMean } from "../ops/reduce-mean.js";
import { reduceSum } from "../ops/reduce-sum.js";

/**
 * Mean cross-entropy of `logits` [batch, K] against one-hot (or soft) labels
 * [batch, K], as `F.cross_entropy(logits, target)` with mean reduction:
 * −mean_b Σ_k labels[b,k] · log softmax(logits)[b,k].
 *
 * @example const loss = crossEntropy(logits, labels) // shape []
 */
export function crossEntropy(logits: Value, labelsOneHot: Value): Value {
  check(
    logits.rank === 2 && labelsOneHot.rank === 2 && logits.shape[1] === labelsOneHot.shape[1],
    () =>
      `crossEntropy: logits and labels must both be [batch, K], got ${shapeString(logits.shape)} and ${shapeString(labelsOneHot.shape)}`,
  );
  const perRow = reduceSum(mul(labelsOneHot, logSoftmax(logits, 1)), [1]);
  return neg(reduceMean(perRow, [0]));
}
