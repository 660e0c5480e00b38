// The ops the layers call (conv, batchnorm, pooling, dropout from src/ops), with the
// option types the layers use.

import { Tensor } from '../tensor/tensor.js';
import { conv2d as convOp } from '../ops/conv.js';
import { batchNorm2d as bnOp } from '../ops/norm.js';
import { maxPool2d as maxPoolOp, avgPool2d as avgPoolOp, globalAvgPool2d as gapOp, dropout as dropoutOp } from '../ops/pool.js';

export type Activation = 'relu' | 'relu6';

export interface Conv2dOpOptions {
  stride?: number;
  padding?: number;
  groups?: number;
  relu?: boolean;
}
export interface BatchNormOpOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  act?: Activation;
}
export interface PoolOpOptions {
  kernelSize: number;
  stride?: number;
  padding?: number;
}
export interface DropoutOpOptions {
  p: number;
  training: boolean;
  seed?: number;
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, o: Conv2dOpOptions): Tensor {
  return convOp(x, w, b, o);
}

export function batchNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, o: BatchNormOpOptions): Tensor {
  return bnOp(x, gamma, beta, mean, variance, o);
}

export function maxPool2d(x: Tensor, o: PoolOpOptions): Tensor {
  return maxPoolOp(x, o);
}

export function avgPool2d(x: Tensor, o: PoolOpOptions): Tensor {
  return avgPoolOp(x, o);
}

/** [N, C, H, W] → [N, C] */
export function globalAvgPool2d(x: Tensor): Tensor {
  return gapOp(x);
}

export function dropout(x: Tensor, o: DropoutOpOptions): Tensor {
  return dropoutOp(x, o);
}
