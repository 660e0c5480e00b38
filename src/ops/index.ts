// The `ops` namespace: every differentiable op, PyTorch semantics.
export {
  add, sub, mul, div, maximum, minimum, neg, exp, log, relu, relu6, sigmoid, tanh, sqrt, square, abs, affine,
  fill, fillInPlace, accumulate, copy, assign, sumTo, elementwiseTuning, unaryBwdRaw as unaryBackward,
} from './elementwise.js';
export { sum, mean, max, argmax } from './reduce.js';
export type { ReduceOptions } from './reduce.js';
export {
  matmul, matmulRaw, linear, setMatmulVariant, matmulVariant, defaultMatmulVariant, MATMUL_VARIANTS, availableMatmulVariants,
  subgroupMatmulSupported, autotuneMatmul, matmulTuning, clearMatmulTuning, matmulBucket,
} from './matmul.js';
export type { MatmulVariant, MatmulRawOptions, MatmulBucket, MatmulTuneEntry, MatmulTuneResult, AutotuneOptions } from './matmul.js';
export { softmax, logSoftmax } from './softmax.js';
export { gather, oneHot, reshape, flatten } from './indexing.js';
export * from './conv.js';
export * from './norm.js';
export * from './pool.js';
