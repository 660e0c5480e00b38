// The multi-warm label (FocusNet Eq. 4-6): which classes the baseline finds plausible.

import { Tensor } from '../tensor/index.js';
import { noGrad } from '../autograd/tape.js';
import { launch1d, out } from '../ops/common.js';
import { checkLogits, checkLabelTensor, checkChoice, checkNumber, validateLabels } from './common.js';

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
    launch1d(b, {
      module: 'losses:warm', label: op,
      bindings: [zb.slice(op), labels.slice(op), l.slice(op)],
      u: [b, n, rule === 'softmax' ? 1 : 0, 0], f: [0, temperature, 0, 0],
    }, 64);
    return l;
  });
}
