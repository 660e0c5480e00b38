// The ops the layers call (conv, batchnorm, pooling, dropout from src/ops), under one name,
// and the one name of a fused activation ('none' | 'relu' | 'relu6', src/ops/activation.ts).

export { conv2d } from '../ops/conv.js';
export { batchNorm2d } from '../ops/norm.js';
export { maxPool2d, globalAvgPool2d, dropout } from '../ops/pool.js';
export { checkActivation } from '../ops/activation.js';
export type { Activation } from '../ops/activation.js';
