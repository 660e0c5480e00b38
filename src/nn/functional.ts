// The ops the layers call (conv, batchnorm, pooling, dropout from src/ops), under one name.

export { conv2d } from '../ops/conv.js';
export { batchNorm2d } from '../ops/norm.js';
export { maxPool2d, globalAvgPool2d, dropout } from '../ops/pool.js';

export type Activation = 'relu' | 'relu6';
