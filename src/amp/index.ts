// The `amp` namespace: mixed precision as torch.amp has it. `autocast(fn)` runs conv2d, linear and
// matmul on f16 operands with f32 accumulation (src/ops/cast.ts); `GradScaler` scales the loss and
// skips steps whose gradients overflowed (scaler.ts). `isAvailable()`: whether this adapter can
// (it needs the feature 'shader-f16'). See docs/training.md ("Mixed precision").
export { autocast, isAutocastEnabled, cast } from '../ops/cast.js';
export type { AutocastOptions } from '../ops/cast.js';
export { halfSupported as isAvailable } from '../ops/precision.js';
export { GradScaler } from './scaler.js';
export type { GradScalerOptions, GradScalerStats, GradScalerState } from './scaler.js';
