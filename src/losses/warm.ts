// The multi-warm label (FocusNet Eq. 4-6): which classes the baseline finds plausible.

import src from '../../kernels/losses.wgsl';
import { registerKernel, instantiate, paramBlock, gpu, grid } from '../gpu/index.js';
import { Tensor } from '../tensor/index.js';
import { noGrad } from '../autograd/tape.js';
import { out } from '../ops/common.js';
import { checkLogits, checkLabelTensor, checkChoice, checkNumber, validateLabels, LOSSES_FILE } from './common.js';

/** WARM (kernels/losses.wgsl): rows [B] of classes [N] baseline logits, the rule, its temperature. */
const WarmParams = paramBlock('losses.warm', { rows: 'u32', classes: 'u32', softmax_rule: 'bool', temperature: 'f32' });
const WARM = registerKernel({ name: 'losses:warm', code: instantiate(src, 'WARM'), file: LOSSES_FILE, params: WarmParams });

export type WarmRule = 'positive-logit' | 'softmax';
export const WARM_RULES: readonly WarmRule[] = ['positive-logit', 'softmax'];

export interface WarmLabelOptions {
  /** 'positive-logit' (the paper: zb > 0) or 'softmax' (the authors' code: softmax(zb/T) > 1/N) */
  rule?: WarmRule;
  /** temperature of the 'softmax' rule */
  temperature?: number;
}

/** Parse and check the warm-label options shared with focusPicking. */
export function warmOptions(op: string, o: WarmLabelOptions): { rule: WarmRule; temperature: number } {
  const rule = checkChoice(o.rule ?? 'positive-logit', op, 'rule', WARM_RULES);
  const temperature = checkNumber(o.temperature ?? 2, op, 'temperature', (t) => t > 0, 'a positive number');
  return { rule, temperature };
}

/**
 * The multi-warm label [B, N]: l'_n = [zb_n > 0] ('positive-logit') or
 * [softmax(zb / T)_n > 1/N] ('softmax'); the label is added, entries clipped to 1,
 * rows normalized to sum 1. No gradient flows through it.
 */
export function multiWarmLabel(zb: Tensor, labels: Tensor, opts: WarmLabelOptions = {}): Tensor {
  const op = 'multiWarmLabel';
  const [b, n] = checkLogits(zb, op, 'zb');
  checkLabelTensor(labels, op, b);
  const { rule, temperature } = warmOptions(op, opts);
  return noGrad(() => {
    validateLabels(labels, n, op);
    const l = out([b, n]);
    gpu().dispatch({
      kernel: WARM, label: op,
      params: { rows: b, classes: n, softmax_rule: rule === 'softmax', temperature },
      bindings: [zb.slice(op), labels.slice(op), l.slice(op)],
      workgroups: grid(b, 64),
    });
    return l;
  });
}
