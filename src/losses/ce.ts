// Cross-entropy with optional label smoothing, fused (kernels/losses.wgsl CE) or composed.

import src from '../../kernels/losses.wgsl';
import { instantiate, paramBlock } from '../gpu/index.js';
import { Tensor, scope } from '../tensor/index.js';
import { noGrad } from '../autograd/tape.js';
import * as ops from '../ops/index.js';
import { checkLogits, checkLabelTensor, checkChoice, checkNumber, fusedRowLoss, rowLossKernels, asLoss, validateLabels, LOSSES_FILE } from './common.js';
import { LossImpl, LOSS_IMPLS } from './focus.js';

/** CE: rows [B] of classes [N] logits, label smoothing eps, dz scale (1 / B). */
const CeParams = paramBlock('losses.ce', { rows: 'u32', classes: 'u32', eps: 'f32', scale: 'f32' });
const CE = rowLossKernels('losses:ce', instantiate(src, ['ROW', 'CE']), LOSSES_FILE, CeParams);

export interface CrossEntropyOptions {
  /** target (1 - eps) y + eps / N */
  labelSmoothing?: number;
  impl?: LossImpl;
}

/** mean over the batch of -sum_n s_n log softmax(logits)_n, s the (smoothed) one-hot label. */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const [b, n] = checkLogits(logits, op, 'logits');
  checkLabelTensor(labels, op, b);
  const eps = checkNumber(opts.labelSmoothing ?? 0, op, 'labelSmoothing', (e) => e >= 0 && e < 1, 'in [0, 1)');
  const impl = checkChoice(opts.impl ?? 'fused', op, 'impl', LOSS_IMPLS);
  if (impl === 'composed') {
    validateLabels(labels, n, op);
    return scope(() => {
      const logp = ops.logSoftmax(logits);
      if (eps === 0) return asLoss(ops.mean(ops.neg(ops.gather(logp, labels))));
      const target = noGrad(() => ops.affine(ops.oneHot(labels, n), 1 - eps, eps / n));
      return asLoss(ops.neg(ops.mean(ops.sum(ops.mul(logp, target), 1))));
    });
  }
  return fusedRowLoss(op, CE, logits, [labels], labels, { eps });
}
