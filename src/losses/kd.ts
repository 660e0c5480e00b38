// Hinton's knowledge-distillation term: T^2 KL(softmax(zb/T) || softmax(z/T)), batch mean.

import src from '../../kernels/losses.wgsl';
import { instantiate, paramBlock } from '../gpu/index.js';
import { Tensor, scope } from '../tensor/index.js';
import { noGrad } from '../autograd/tape.js';
import * as ops from '../ops/index.js';
import { checkLogits, checkSame, checkLabelTensor, checkChoice, checkNumber, fusedRowLoss, rowLossKernels, asLoss, LOSSES_FILE } from './common.js';
import { LossImpl, LOSS_IMPLS } from './focus.js';

/** KD: rows [B] of classes [N] logits, temperature T, dz scale (1 / B). */
const KdParams = paramBlock('losses.kd', { rows: 'u32', classes: 'u32', temperature: 'f32', scale: 'f32' });
const KD = rowLossKernels('losses:kd', instantiate(src, ['ROW', 'KD']), LOSSES_FILE, KdParams);

export interface DistillationOptions {
  temperature?: number;
  impl?: LossImpl;
}

/**
 * The KD term with teacher logits zb: T^2 * KL(softmax(zb/T) || softmax(z/T)), batch mean.
 * `labels` is accepted for signature compatibility with the other losses (checked, unused);
 * combine with crossEntropy for the usual KD objective.
 */
export function distillation(z: Tensor, zb: Tensor, labels: Tensor | null, opts: DistillationOptions = {}): Tensor {
  const op = 'distillation';
  const [b, n] = checkLogits(z, op, 'z');
  checkSame(z, zb, op, 'z', 'zb');
  if (labels !== null && labels !== undefined) checkLabelTensor(labels, op, b);
  const t = checkNumber(opts.temperature ?? 4, op, 'temperature', (x) => x > 0, 'a positive number');
  const impl = checkChoice(opts.impl ?? 'fused', op, 'impl', LOSS_IMPLS);
  if (impl === 'composed') {
    return scope(() => {
      const logpt = noGrad(() => ops.logSoftmax(ops.mul(zb, 1 / t)));
      const pt = noGrad(() => ops.exp(logpt));
      const logps = ops.logSoftmax(ops.mul(z, 1 / t));
      const kl = ops.sum(ops.mul(pt, ops.sub(logpt, logps)), 1);
      return asLoss(ops.mul(ops.mean(kl), t * t));
    });
  }
  return fusedRowLoss(op, KD, z, [zb], null, { temperature: t });
}
