// losses: cross-entropy (label smoothing), distillation (KD), the multi-warm label and the
// focus-picking loss (fused WGSL kernel or composed from ops). See docs/losses.md.
export { crossEntropy } from './ce.js';
export type { CrossEntropyOptions } from './ce.js';
export { distillation } from './kd.js';
export type { DistillationOptions } from './kd.js';
export { multiWarmLabel, WARM_RULES } from './warm.js';
export type { WarmRule, WarmLabelOptions } from './warm.js';
export { focusPicking, LOSS_IMPLS } from './focus.js';
export type { FocusPickingOptions, LossImpl } from './focus.js';
export { checkLabels, LossTensor } from './common.js';
