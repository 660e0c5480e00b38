// The tensor layer: Tensor and Storage, creation, in-place buffer operations, scopes.
export { Tensor, Storage, numel, shapeStr, materializeZero, installEngine, RELEASED_DEVICE } from './tensor.js';
export type { DType, Shape, GradNode, TensorEngine } from './tensor.js';
export { empty, tensor, full, zeros, ones } from './create.js';
export type { TensorOptions } from './create.js';
export { fillInPlace, accumulate, addSameSize, copy, assign } from './in-place.js';
export { scope, keep, isKept, registerNode } from './scope.js';
export { looseStats, settleGarbage, COLLECT_EVERY } from './loose.js';
