// The `ops` namespace: every differentiable op (PyTorch semantics; NCHW, OIHW), and the tensor
// functions users reach for beside them (fill, copy, in-place assign and accumulate). Raw
// launchers and tuning tables are not here: see the `internal` and `tuning` namespaces.
export {
  add, sub, mul, div, maximum, minimum, neg, exp, log, relu, relu6, sigmoid, tanh, sqrt, square, abs, affine, fill,
} from './elementwise.js';
export { fillInPlace, accumulate, copy, assign } from '../tensor/index.js';
export { sum, mean, max, argmax } from './reduce.js';
export type { ReduceOptions } from './reduce.js';
export { matmul, linear } from './matmul.js';
export { cast } from './cast.js';
export type { LinearOptions } from './matmul.js';
export { softmax, logSoftmax } from './softmax.js';
export { gather, oneHot, reshape, reshape as view, flatten } from './indexing.js';
export { conv2d } from './conv.js';
export type { Conv2dOptions } from './conv.js';
export { batchNorm2d } from './norm.js';
export type { BatchNormOptions } from './norm.js';
export type { Activation } from './activation.js';
export { maxPool2d, avgPool2d, globalAvgPool2d, dropout } from './pool.js';
export type { PoolOptions, DropoutOptions, Size2 } from './pool.js';
