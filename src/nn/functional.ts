// The ops the layers call, typed here against the contract in shared/api.md.
// conv2d, batchNorm2d, the poolings and dropout live in other op families
// (src/ops/conv.ts, norm.ts, pool.ts); they are looked up when first called, so
// this namespace builds before they land and fails with a clear error if one
// is missing from the build.

import * as ops from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { OpError } from '../gpu/errors.js';

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

type Fn = (...args: never[]) => unknown;
const table = ops as unknown as Record<string, Fn | undefined>;

function op<F extends Fn>(name: string): F {
  const f = table[name];
  if (typeof f !== 'function') throw new OpError(name, `ops.${name} is not available in this build (its op family has not landed)`);
  return f as F;
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, o: Conv2dOpOptions): Tensor {
  return op<(x: Tensor, w: Tensor, b: Tensor | null | undefined, o: Conv2dOpOptions) => Tensor>('conv2d')(x, w, b ?? undefined, o);
}

export function batchNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, o: BatchNormOpOptions): Tensor {
  return op<(x: Tensor, g: Tensor, b: Tensor, m: Tensor, v: Tensor, o: BatchNormOpOptions) => Tensor>('batchNorm2d')(x, gamma, beta, mean, variance, o);
}

export function maxPool2d(x: Tensor, o: PoolOpOptions): Tensor {
  return op<(x: Tensor, o: PoolOpOptions) => Tensor>('maxPool2d')(x, o);
}

export function avgPool2d(x: Tensor, o: PoolOpOptions): Tensor {
  return op<(x: Tensor, o: PoolOpOptions) => Tensor>('avgPool2d')(x, o);
}

/** [N, C, H, W] → [N, C] */
export function globalAvgPool2d(x: Tensor): Tensor {
  return op<(x: Tensor) => Tensor>('globalAvgPool2d')(x);
}

export function dropout(x: Tensor, o: DropoutOpOptions): Tensor {
  return op<(x: Tensor, o: DropoutOpOptions) => Tensor>('dropout')(x, o);
}
