// Pooling (max, average, global average) over NCHW tensors, and seeded dropout.
// Kernels: kernels/pool.wgsl (uniform block PoolParams) and kernels/dropout.wgsl (DropoutParams);
// their headers have the geometry.

import poolSrc from '../../kernels/pool.wgsl';
import dropoutSrc from '../../kernels/dropout.wgsl';
import { registerKernel, instantiate, paramBlock, grid } from '../gpu/index.js';
import { Tensor } from '../tensor/index.js';
import { record, needsGrad } from '../autograd/tape.js';
import { checkF32, out, gpu, OpError, shapeStr } from './common.js';
import type { BufferSlice } from '../gpu/index.js';
import { reshape } from './indexing.js';
import { mean } from './reduce.js';

const FILE = 'kernels/pool.wgsl';
/** Every pooling kernel's uniforms: input and output plane sizes, planes (N*C), padding, 1 / window area. */
const PoolParams = paramBlock('pool', {
  in_h: 'u32', in_w: 'u32', out_h: 'u32', out_w: 'u32', planes: 'u32', pad_h: 'i32', pad_w: 'i32', inv_window: 'f32',
});
/** Dropout's uniforms: element count, seed, keep when hash >= drop_threshold, scale of the kept ones. */
const DropoutParams = paramBlock('dropout', { count: 'u32', seed: 'u32', drop_threshold: 'u32', keep_scale: 'f32' });

/** Kernel layouts: any window (scalar), 2x2 stride 2 on rows of W % 4 == 0 (vec4) or even W (vec2). */
type Layout = 'window' | 'pair4' | 'pair2';
/** One pass of a pooling rule; max_fwd_noarg skips the argmax output (no gradient needed). */
type Pass = 'max_fwd' | 'max_fwd_noarg' | 'max_bwd' | 'avg_fwd' | 'avg_bwd';

const LAYOUTS: readonly Layout[] = ['window', 'pair4', 'pair2'];
const LAYOUT_BLOCK: Record<Layout, string> = { window: 'SCALAR', pair4: 'PAIR4', pair2: 'PAIR2' };
const PASS_BLOCKS: Record<Pass, string[]> = {
  max_fwd: ['FWD', 'MAX', 'ARG_OUT'],
  max_fwd_noarg: ['FWD', 'MAX', 'NO_ARG'],
  max_bwd: ['BWD', 'MAX_GRAD'],
  avg_fwd: ['FWD', 'AVG'],
  avg_bwd: ['BWD', 'AVG_GRAD'],
};
function poolKernel(pass: Pass, layout: Layout) {
  const dir = pass.includes('_fwd') ? 'FWD' : 'BWD';
  const body = layout === 'window' ? [`WINDOW_${dir}`] : [`PAIR_${dir}`, 'PAIR'];
  return registerKernel({ name: `pool:${pass}:${layout}`, code: instantiate(poolSrc, [LAYOUT_BLOCK[layout], ...PASS_BLOCKS[pass], ...body]), file: FILE, params: PoolParams });
}
type PoolKernel = ReturnType<typeof poolKernel>;
const POOL_KERNELS = Object.fromEntries(
  (Object.keys(PASS_BLOCKS) as Pass[]).map((pass) => [pass, Object.fromEntries(LAYOUTS.map((l) => [l, poolKernel(pass, l)]))]),
) as Record<Pass, Record<Layout, PoolKernel>>;
const dropoutKernel = (w: 'V1' | 'V4') =>
  registerKernel({ name: `dropout:${w.toLowerCase()}`, code: instantiate(dropoutSrc, w), file: 'kernels/dropout.wgsl', params: DropoutParams });
const DROPOUT_KERNELS = { v1: dropoutKernel('V1'), v4: dropoutKernel('V4') };

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

/**
 * 2x2 windows, stride 2, no padding on rows of even length take the vectorized kernels ('pair4':
 * vec4 units, two outputs per invocation, W % 4 == 0; 'pair2': vec2 units, one output per
 * invocation); any other geometry the generic 'window' kernels.
 */
function layoutOf(g: PoolGeometry): Layout {
  if (!(g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0)) return 'window';
  return g.W % 4 === 0 ? 'pair4' : g.W % 2 === 0 ? 'pair2' : 'window';
}

/**
 * Launch a pool kernel: the 'window' ones over OW x OH (forward) or W x H (backward) x planes
 * (workgroup 16 x 4), the pair ones over W/UNIT x OH x planes (workgroup 8 x 8).
 * Bindings: forward x, y[, arg]; backward g, dx[, arg]. The label names the path:
 * `${label}(${layout})`, and `max_pool2d(${layout}, no argmax)` for max_fwd_noarg.
 */
function launch(pass: Pass, label: string, g: PoolGeometry, bindings: BufferSlice[]): void {
  const planes = g.N * g.C;
  const layout = layoutOf(g);
  const fwd = pass.includes('_fwd');
  const [cols, rows] = layout === 'pair4' ? [g.W / 4, g.OH] : layout === 'pair2' ? [g.W / 2, g.OH] : fwd ? [g.OW, g.OH] : [g.W, g.H];
  if (cols * rows * planes === 0) return;
  const [wx, wy] = layout === 'window' ? [16, 4] : [8, 8];
  gpu().dispatch({
    kernel: POOL_KERNELS[pass][layout],
    label: `${label}(${layout}${pass === 'max_fwd_noarg' ? ', no argmax' : ''})`,
    bindings,
    constants: layout === 'window' ? { KH: g.kh, KW: g.kw, SH: g.sh, SW: g.sw } : undefined,
    params: { in_h: g.H, in_w: g.W, out_h: g.OH, out_w: g.OW, planes, pad_h: g.ph, pad_w: g.pw, inv_window: 1 / (g.kh * g.kw) },
    workgroups: [Math.ceil(cols / wx), Math.ceil(rows / wy), Math.min(planes, 65535)],
  });
}

/**
 * Max pooling (padding counts as -inf); the gradient goes to the first maximum of each window in
 * row-major order. NaN propagates as in PyTorch: a window holding NaN gives NaN, and its gradient
 * goes to the window's last NaN (PyTorch takes every NaN it meets). The argmax indices
 * are written only when a gradient will be needed.
 */
export function maxPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const op = 'maxPool2d';
  const g = poolGeometry(op, x, opts);
  const y = out([g.N, g.C, g.OH, g.OW]);
  if (!needsGrad(x)) {
    launch('max_fwd_noarg', 'max_pool2d', g, [x.slice(op), y.slice(op)]);
    return y;
  }
  const arg = out([g.N, g.C, g.OH, g.OW], 'i32');
  launch('max_fwd', 'max_pool2d', g, [x.slice(op), y.slice(op), arg.slice(op)]);
  const xs = x.shape;
  record(op, [x], y, [arg], (gy, [a]) => {
    const dx = out(xs);
    launch('max_bwd', 'max_pool2d_backward', g, [gy.slice(op), dx.slice(op), a.slice(op)]);
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
  launch('avg_fwd', 'avg_pool2d', g, [x.slice(op), y.slice(op)]);
  const xs = x.shape;
  record(op, [x], y, [], (gy) => {
    const dx = out(xs);
    launch('avg_bwd', 'avg_pool2d_backward', g, [gy.slice(op), dx.slice(op)]);
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
  if (a.size === 0) return y;
  const params = { count: a.size, seed, drop_threshold: threshold, keep_scale: scale };
  const bindings = [a.slice('dropout'), y.slice('dropout')];
  // vec4 path: 16 elements per invocation (the same mask as the scalar path)
  if (a.size % 4 === 0) gpu().dispatch({ kernel: DROPOUT_KERNELS.v4, label: 'dropout(v4)', params, bindings, workgroups: grid(Math.ceil(a.size / 16), 64) });
  else gpu().dispatch({ kernel: DROPOUT_KERNELS.v1, label: 'dropout(v1)', params, bindings, workgroups: grid(a.size, 64) });
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
