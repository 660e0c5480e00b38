// Reductions along an axis (sum, mean, max with arg-max), argmax, and sumTo (the gradient of
// broadcasting). The tensor is viewed as [outer, R, inner]; see kernels/reduce.wgsl.

import src from '../../kernels/reduce.wgsl';
import { registerKernel, instantiate, paramBlock, gpu, grid } from '../gpu/index.js';
import { Tensor, Shape, numel, copy } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { checkF32, out, normAxis, sameShape, broadcastStrides, OpError, shapeStr } from './common.js';

const FILE = 'kernels/reduce.wgsl';
const ReduceParams = paramBlock('reduce', { outer: 'u32', r: 'u32', inner: 'u32', n: 'u32', chunk: 'u32', scale: 'f32' });
const SumToParams = paramBlock('reduce.sum_to', {
  n: 'u32', rank: 'u32', rcount: 'u32', rrank: 'u32', shape: 'u32[8]', gstr: 'u32[8]', rshape: 'u32[8]', rstr: 'u32[8]',
});
const kernel = (block: string) => registerKernel({ name: `reduce:${block.toLowerCase()}`, code: instantiate(src, block), file: FILE, params: ReduceParams });
const K = { sum: kernel('SUM'), max: kernel('MAX'), expand: kernel('EXPAND'), scatter: kernel('SCATTER') };
const sumToKernel = registerKernel({ name: 'reduce:sum_to', code: instantiate(src, 'SUM_TO'), file: FILE, params: SumToParams });

/** A 1-D launch of a reduce kernel over n invocations. */
function launch(kernel: (typeof K)['sum'], label: string, bindings: ReturnType<Tensor['slice']>[], p: { outer: number; r: number; inner: number; n: number; chunk: number; scale: number }): void {
  gpu().dispatch({ kernel, label, params: p, bindings, workgroups: grid(p.n, 256) });
}

export interface ReduceOptions {
  /** axis to reduce; omit to reduce every element */
  axis?: number;
  keepDim?: boolean;
}

function split(x: Tensor, axis: number | undefined, op: string): { outer: number; r: number; inner: number; shape: number[]; keep: number[] } {
  if (axis === undefined) return { outer: 1, r: x.size, inner: 1, shape: [], keep: x.shape.map(() => 1) };
  const a = normAxis(op, axis, x.rank, x.shape);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < a; i++) outer *= x.shape[i];
  for (let i = a + 1; i < x.rank; i++) inner *= x.shape[i];
  const shape = x.shape.filter((_, i) => i !== a);
  const keep = x.shape.map((d, i) => (i === a ? 1 : d));
  return { outer, r: x.shape[a], inner, shape, keep };
}

function sumRaw(x: Tensor, outer: number, r: number, inner: number, scale: number, shape: readonly number[]): Tensor {
  const nOut = outer * inner;
  // Few outputs and a long R: split R into chunks so the work spreads over many invocations.
  if (nOut < 1024 && r > 4096) {
    const chunk = Math.max(256, Math.ceil(r / Math.ceil(8192 / nOut)));
    const chunks = Math.ceil(r / chunk);
    const part = out([outer, chunks, inner]);
    launch(K.sum, 'sum_partial', [x.slice('sum'), part.slice('sum')], { outer, r, inner, n: outer * chunks * inner, chunk, scale: 1 });
    const y = sumRaw(part, outer, chunks, inner, scale, shape);
    part.dispose();
    return y;
  }
  const y = out(shape);
  launch(K.sum, 'sum', [x.slice('sum'), y.slice('sum')], { outer, r, inner, n: nOut, chunk: Math.max(1, r), scale });
  return y;
}

function expandRaw(g: Tensor, outer: number, r: number, inner: number, scale: number, shape: readonly number[]): Tensor {
  const dx = out(shape);
  const n = outer * r * inner;
  launch(K.expand, 'sum_backward', [g.slice('expand'), dx.slice('expand')], { outer, r, inner, n, chunk: 1, scale });
  return dx;
}

function reduceMean(op: 'sum' | 'mean', x: Tensor, opts: ReduceOptions | number): Tensor {
  checkF32(x, op, 'x');
  const o = typeof opts === 'number' ? { axis: opts } : opts;
  const { outer, r, inner, shape, keep } = split(x, o.axis, op);
  // an empty axis sums to 0 (and its mean is NaN), as in PyTorch
  const scale = op === 'mean' ? (r === 0 ? NaN : 1 / r) : 1;
  const y = sumRaw(x, outer, r, inner, scale, o.keepDim ? keep : shape);
  const xs = x.shape;
  record(op, [x], y, [], (g) => [expandRaw(g, outer, r, inner, scale, xs)]);
  return y;
}

export const sum = (x: Tensor, opts: ReduceOptions | number = {}): Tensor => reduceMean('sum', x, opts);
export const mean = (x: Tensor, opts: ReduceOptions | number = {}): Tensor => reduceMean('mean', x, opts);

function maxRaw(x: Tensor, axis: number | undefined, keepDim: boolean, op: string): { y: Tensor; arg: Tensor; outer: number; r: number; inner: number } {
  const { outer, r, inner, shape, keep } = split(x, axis, op);
  if (r === 0) throw new OpError(op, `cannot reduce an empty axis of ${shapeStr(x.shape)}`);
  const y = out(keepDim ? keep : shape);
  const arg = out(keepDim ? keep : shape, 'i32');
  const n = outer * inner;
  launch(K.max, op, [x.slice(op), y.slice(op), arg.slice(op)], { outer, r, inner, n, chunk: r, scale: 1 });
  return { y, arg, outer, r, inner };
}

/** Maximum along an axis (the first maximum receives the gradient). */
export function max(x: Tensor, opts: ReduceOptions | number = {}): Tensor {
  checkF32(x, 'max', 'x');
  const o = typeof opts === 'number' ? { axis: opts } : opts;
  const { y, arg, outer, r, inner } = maxRaw(x, o.axis, !!o.keepDim, 'max');
  const xs = x.shape;
  record('max', [x], y, [arg], (g, [a]) => {
    const dx = out(xs);
    const n = outer * r * inner;
    launch(K.scatter, 'max_backward', [g.slice('max'), a.slice('max'), dx.slice('max')], { outer, r, inner, n, chunk: 1, scale: 1 });
    return [dx];
  });
  arg.dispose();
  return y;
}

/** Index of the (first) maximum along an axis, as an i32 tensor. */
export function argmax(x: Tensor, axis = -1): Tensor {
  checkF32(x, 'argmax', 'x');
  const { y, arg } = maxRaw(x, axis, false, 'argmax');
  y.dispose();
  return arg;
}

/** Sum `g` down to `shape` over broadcast dimensions (the gradient of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return copy(g);
  const r = g.shape.length;
  if (r > 8) throw new OpError('sumTo', `broadcasting supports rank <= 8, got ${shapeStr(g.shape)}`);
  const padded: number[] = [];
  for (let i = 0; i < r; i++) padded.push(shape[shape.length - r + i] ?? 1);
  const gStr = broadcastStrides(g.shape, g.shape);
  const keptStr: number[] = [];
  const rshape: number[] = [];
  const rstr: number[] = [];
  for (let i = 0; i < r; i++) {
    keptStr.push(padded[i] === 1 ? 0 : gStr[i]);
    if (padded[i] === 1 && g.shape[i] !== 1) {
      rshape.push(g.shape[i]);
      rstr.push(gStr[i]);
    }
  }
  const n = numel(shape);
  const y = out(shape);
  gpu().dispatch({
    kernel: sumToKernel, label: 'sum_to',
    params: { n, rank: r, rcount: numel(rshape), rrank: rshape.length, shape: padded, gstr: keptStr, rshape, rstr },
    bindings: [g.slice('sumTo'), y.slice('sumTo')], workgroups: grid(n, 256),
  });
  return y;
}

/** @internal sumTo that takes ownership of `t`: returns it as is when it already has `shape`, else disposes it. */
export function sumToOwned(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const r = sumTo(t, shape);
  t.dispose();
  return r;
}
