// The stage-2 objectives: FocusNet's focus-picking loss and the comparison
// methods (cross-entropy, label smoothing, knowledge distillation), all taken
// from the `losses` namespace. The baseline (stage 1) always uses cross-entropy.
import * as losses from '../losses/index.js';
import { Tensor } from '../tensor/index.js';
import { add, affine } from '../ops/index.js';

export const LOSSES = ['focus', 'ce', 'ls', 'kd'] as const;
export type LossName = (typeof LOSSES)[number];

export interface ObjectiveOptions {
  impl: 'fused' | 'composed';
  /** label smoothing for --loss ls (default 0.1) */
  labelSmoothing: number;
  /** KD temperature (default 4) and the weight of the KD term against cross-entropy (default 0.5) */
  temperature: number;
  kdWeight: number;
  /** focus-picking weights and multi-warm rule */
  alpha: number;
  beta: number;
  rule: 'positive-logit' | 'softmax';
  /** focus: the temperature T of the 'softmax' warm-label rule, softmax(zb / T) > 1/N (default 2) */
  warmTemperature?: number;
  /** focus: smoothing of Lcls's target, (1 − ε)·y + ε/N (default 0, the paper; the authors' code uses 0.1) */
  focusLabelSmoothing?: number;
}

/** The focus-picking loss's own defaults for the options above that may be left out. */
export const FOCUS_DEFAULTS = { warmTemperature: 2, focusLabelSmoothing: 0 } as const;


/** Whether a stage-2 loss needs the frozen baseline's logits. */
export function needsBaseline(loss: LossName): boolean {
  return loss === 'focus' || loss === 'kd';
}

export function crossEntropy(z: Tensor, labels: Tensor, labelSmoothing = 0, impl: 'fused' | 'composed' = 'fused'): Tensor {
  return losses.crossEntropy(z, labels, { labelSmoothing, impl });
}

/** The stage-2 loss for logits z, baseline logits zb (null when not needed) and labels. */
export function stageTwoLoss(loss: LossName, z: Tensor, zb: Tensor | null, labels: Tensor, o: ObjectiveOptions): Tensor {
  switch (loss) {
    case 'ce':
      return crossEntropy(z, labels, 0, o.impl);
    case 'ls':
      return crossEntropy(z, labels, o.labelSmoothing, o.impl);
    case 'kd': {
      // Hinton et al.: (1 − w)·CE(z, y) + w·T²·KL(softmax(zb/T) ‖ softmax(z/T))
      const kd = losses.distillation(z, zb!, labels, { temperature: o.temperature, impl: o.impl });
      if (o.kdWeight >= 1) return kd;
      return add(affine(crossEntropy(z, labels, 0, o.impl), 1 - o.kdWeight), affine(kd, o.kdWeight));
    }
    case 'focus':
      return losses.focusPicking(z, zb!, labels, {
        alpha: o.alpha,
        beta: o.beta,
        rule: o.rule,
        temperature: o.warmTemperature ?? FOCUS_DEFAULTS.warmTemperature,
        labelSmoothing: o.focusLabelSmoothing ?? FOCUS_DEFAULTS.focusLabelSmoothing,
        impl: o.impl,
      });
  }
}
