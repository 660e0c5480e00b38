// Pooling (max, average, global average) over NCHW tensors, and seeded dropout.
// Kernels: kernels/pool.wgsl and kernels/dropout.wgsl (their headers have the geometry).

import poolSrc from '../../kernels/pool.wgsl';
import dropoutSrc from '../../kernels/dropout.wgsl';
import { registerKernel } from '../gpu/kernels.js';
import { instantiate } from '../gpu/template.js';
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { checkF32, launch1d, out, OpError, shapeStr } from './common.js';
import { reshape } from './indexing.js';
import { mean } from './reduce.js';

const FILE = 'kernels/pool.wgsl';
registerKernel('pool:max_fwd', instantiate(poolSrc, 'MAX_FWD'), FILE);
registerKernel('pool:max_bwd', instantiate(poolSrc, 'MAX_BWD'), FILE);
registerKernel('pool:avg_fwd', instantiate(poolSrc, 'AVG_FWD'), FILE);
registerKernel('pool:avg_bwd', instantiate(poolSrc, 'AVG_BWD'), FILE);
registerKernel('dropout', dropoutSrc, 'kernels/dropout.wgsl');

export type Size2 = number | readonly [number, number];

export interface PoolOptions {
  kernelSize: Size2;
  /** defaults to kernelSize */
  stride?: Size2;
  /** zero-based symmetric padding; at most half the kernel */
  padding?: Size2;
}

interface PoolGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

function pair(op: string, name: string, v: Size2 | undefined, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : null;
  if (!p || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new OpError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}

function poolGeometry(op: string, x: Tensor, o: PoolOptions): PoolGeometry {
  checkF32(x, op, 'x');
  if (x.rank !== 4) throw new OpError(op, `expects x of rank 4 [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (!o || o.kernelSize === undefined) throw new OpError(op, 'options.kernelSize is required');
  const [kh, kw] = pair(op, 'kernelSize', o.kernelSize, 1);
  const [sh, sw] = pair(op, 'stride', o.stride ?? o.kernelSize, 1);
  const [ph, pw] = pair(op, 'padding', o.padding ?? 0, 0);
  const [N, C, H, W] = x.shape;
  if (2 * ph > kh || 2 * pw > kw) {
    throw new OpError(op, `padding ${ph}x${pw} must be at most half the kernel ${kh}x${kw} (input ${shapeStr(x.shape)})`);
  }
  if (H + 2 * ph < kh || W + 2 * pw < kw) {
    throw new OpError(op, `kernel ${kh}x${kw} is larger than the padded input ${H + 2 * ph}x${W + 2 * pw} (input ${shapeStr(x.shape)}, padding ${ph}x${pw})`);
  }
  const OH = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
  return { N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw };
}

function uniforms(g: PoolGeometry, total: number) {
  return {
    u: [total, g.H, g.W, g.OH, g.OW, g.kh, g.kw, g.sh, g.sw, 0, 0, 0],
    i: [g.ph, g.pw],
    f: [1 / (g.kh * g.kw)],
  };
}

/** Max pooling (padding counts as -inf); the gradient goes to the first maximum of each window in row-major order. */
export function maxPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const op = 'maxPool2d';
  const g = poolGeometry(op, x, opts);
  const y = out([g.N, g.C, g.OH, g.OW]);
  const arg = out([g.N, g.C, g.OH, g.OW], 'i32');
  if (y.size > 0) {
    launch1d(y.size, { module: 'pool:max_fwd', label: 'max_pool2d', bindings: [x.slice(op), y.slice(op), arg.slice(op)], ...uniforms(g, y.size) });
  }
  const xs = x.shape;
  record(op, [x], y, [arg], (gy, [a]) => {
    const dx = out(xs);
    launch1d(dx.size, { module: 'pool:max_bwd', label: 'max_pool2d_backward', bindings: [gy.slice(op), a.slice(op), dx.slice(op)], ...uniforms(g, dx.size) });
    return [dx];
  });
  arg.dispose();
  return y;
}

/** Average pooling; padded cells count in the divisor (PyTorch's count_include_pad = true). */
export function avgPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const op = 'avgPool2d';
  const g = poolGeometry(op, x, opts);
  const y = out([g.N, g.C, g.OH, g.OW]);
  if (y.size > 0) launch1d(y.size, { module: 'pool:avg_fwd', label: 'avg_pool2d', bindings: [x.slice(op), y.slice(op)], ...uniforms(g, y.size) });
  const xs = x.shape;
  record(op, [x], y, [], (gy) => {
    const dx = out(xs);
    launch1d(dx.size, { module: 'pool:avg_bwd', label: 'avg_pool2d_backward', bindings: [gy.slice(op), dx.slice(op)], ...uniforms(g, dx.size) });
    return [dx];
  });
  return y;
}

/** Mean over H and W: [N, C, H, W] -> [N, C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  const op = 'globalAvgPool2d';
  checkF32(x, op, 'x');
  if (x.rank !== 4) throw new OpError(op, `expects x of rank 4 [N, C, H, W], got ${shapeStr(x.shape)}`);
  const [N, C, H, W] = x.shape;
  if (H * W === 0) throw new OpError(op, `cannot average an empty map, input ${shapeStr(x.shape)}`);
  const flat = reshape(x, [N, C, H * W]);
  const y = mean(flat, { axis: 2 });
  flat.dispose();
  return y;
}

export interface DropoutOptions {
  /** probability of zeroing an element, 0 <= p <= 1 */
  p: number;
  /** identity (returns x itself) when false */
  training: boolean;
  /** the mask is a pure function of (seed, element index); omitted: a per-process counter */
  seed?: number;
}

let dropoutCounter = 0x5eed;

function dropoutRaw(a: Tensor, seed: number, threshold: number, scale: number): Tensor {
  const y = out(a.shape);
  if (a.size > 0) {
    launch1d(a.size, { module: 'dropout', label: 'dropout', bindings: [a.slice('dropout'), y.slice('dropout')], u: [a.size, seed, threshold, 0], f: [scale] });
  }
  return y;
}

/**
 * Inverted dropout: in training, zero each element with probability p (seeded, reproducible)
 * and scale the kept ones by 1/(1-p); the backward pass applies the same mask.
 * Not training (or p = 0): returns x itself.
 */
export function dropout(x: Tensor, opts: DropoutOptions): Tensor {
  const op = 'dropout';
  checkF32(x, op, 'x');
  const p = opts?.p;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new OpError(op, `p must be in [0, 1], got ${p} (input ${shapeStr(x.shape)})`);
  if (!opts.training || p === 0) return x;
  let seed = opts.seed ?? dropoutCounter++;
  if (!Number.isFinite(seed)) throw new OpError(op, `seed must be a finite number, got ${seed}`);
  seed = Math.floor(seed) >>> 0;
  // keep when hash >= threshold; p = 1 drops everything (scale 0)
  const threshold = p >= 1 ? 0 : Math.min(0xffffffff, Math.round(p * 4294967296));
  const scale = p >= 1 ? 0 : 1 / (1 - p);
  const y = dropoutRaw(x, seed, threshold, scale);
  record(op, [x], y, [], (g) => [dropoutRaw(g, seed, threshold, scale)]);
  return y;
}
