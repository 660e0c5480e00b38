// The focus-picking loss (FocusNet Eq. 7-12), fused (kernels/focus_loss.wgsl) and composed
// from the engine's ordinary ops (the reference the fused kernel is benchmarked against).

import src from '../../kernels/focus_loss.wgsl';
import { paramBlock } from '../gpu/index.js';
import { Tensor, scope } from '../tensor/index.js';
import { noGrad } from '../autograd/tape.js';
import * as ops from '../ops/index.js';
import { checkLogits, checkSame, checkLabelTensor, checkChoice, checkNumber, fusedRowLoss, rowLossKernels, asLoss } from './common.js';
import { multiWarmLabel, warmOptions, WarmRule } from './warm.js';

/**
 * The fused kernel's block: rows [B] of classes [N] logits, the weights alpha and beta, 1 / T of
 * the softmax warm-label rule, label smoothing eps, dz scale (1 / B). The rule itself is the
 * pipeline constant RULE.
 */
const FocusParams = paramBlock('focus_loss', {
  rows: 'u32', classes: 'u32', alpha: 'f32', beta: 'f32', inv_temperature: 'f32', eps: 'f32', scale: 'f32',
});
const FOCUS = rowLossKernels('focus_loss', src, 'kernels/focus_loss.wgsl', FocusParams);

export type LossImpl = 'fused' | 'composed';
export const LOSS_IMPLS: readonly LossImpl[] = ['fused', 'composed'];

export interface FocusPickingOptions {
  /** weight of the attention regulariser -sum l log p (Eq. 10) */
  alpha?: number;
  /** weight of the entropy term (subtracted: Eq. 12) */
  beta?: number;
  rule?: WarmRule;
  /** temperature of the 'softmax' warm-label rule */
  temperature?: number;
  /** smooths the classification target: (1 - eps) y + eps / N */
  labelSmoothing?: number;
  impl?: LossImpl;
}

/**
 * L = -log q_t + alpha * (-sum l log p) - beta * H(p), batch mean, with p = softmax(z),
 * q = softmax(z + p - softmax(zb)) and l the multi-warm label of zb. Gradient flows to z only.
 */
export function focusPicking(z: Tensor, zb: Tensor, labels: Tensor, opts: FocusPickingOptions = {}): Tensor {
  const op = 'focusPicking';
  const [b, n] = checkLogits(z, op, 'z');
  checkSame(z, zb, op, 'z', 'zb');
  checkLabelTensor(labels, op, b);
  const { rule, temperature } = warmOptions(op, opts);
  const alpha = checkNumber(opts.alpha ?? 1, op, 'alpha', () => true, 'a finite number');
  const beta = checkNumber(opts.beta ?? 1, op, 'beta', () => true, 'a finite number');
  const eps = checkNumber(opts.labelSmoothing ?? 0, op, 'labelSmoothing', (e) => e >= 0 && e < 1, 'in [0, 1)');
  const impl = checkChoice(opts.impl ?? 'fused', op, 'impl', LOSS_IMPLS);
  if (impl === 'composed') return composed(z, zb, labels, n, { alpha, beta, rule, temperature, eps });
  return fusedRowLoss(op, FOCUS, z, [zb, labels], labels, { alpha, beta, inv_temperature: 1 / temperature, eps }, { RULE: rule === 'softmax' ? 1 : 0 });
}

interface Resolved { alpha: number; beta: number; rule: WarmRule; temperature: number; eps: number }

/** Intermediates are disposed on return (the scope keeps the graph behind the loss). */
function composed(z: Tensor, zb: Tensor, labels: Tensor, n: number, o: Resolved): Tensor {
  return scope(() => composedBody(z, zb, labels, n, o));
}

function composedBody(z: Tensor, zb: Tensor, labels: Tensor, n: number, o: Resolved): Tensor {
  const l = multiWarmLabel(zb, labels, { rule: o.rule, temperature: o.temperature }); // validates labels
  const pb = noGrad(() => ops.softmax(zb));
  const logp = ops.logSoftmax(z);
  const p = ops.exp(logp);
  const u = ops.add(z, ops.sub(p, pb));
  const logq = ops.logSoftmax(u);
  let lcls: Tensor;
  if (o.eps === 0) lcls = ops.neg(ops.gather(logq, labels));
  else {
    const target = noGrad(() => ops.affine(ops.oneHot(labels, n), 1 - o.eps, o.eps / n));
    lcls = ops.neg(ops.sum(ops.mul(logq, target), 1));
  }
  const ratt = ops.neg(ops.sum(ops.mul(l, logp), 1));
  const ent = ops.neg(ops.sum(ops.mul(p, logp), 1));
  const row = ops.add(ops.add(lcls, ops.mul(ratt, o.alpha)), ops.mul(ent, -o.beta));
  return asLoss(ops.mean(row));
}
