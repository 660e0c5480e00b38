// Reductions along an axis (sum, mean, max with arg-max) and argmax. The tensor is
// viewed as [outer, R, inner]; see kernels/reduce.wgsl.

import src from '../../kernels/reduce.wgsl';
import { registerKernel } from '../gpu/kernels.js';
import { instantiate } from '../gpu/template.js';
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { checkF32, launch1d, out, normAxis, OpError, shapeStr } from './common.js';

const FILE = 'kernels/reduce.wgsl';
registerKernel('reduce:sum', instantiate(src, 'SUM'), FILE);
registerKernel('reduce:max', instantiate(src, 'MAX'), FILE);
registerKernel('reduce:expand', instantiate(src, 'EXPAND'), FILE);
registerKernel('reduce:scatter', instantiate(src, 'SCATTER'), FILE);

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
    launch1d(outer * chunks * inner, {
      module: 'reduce:sum', label: 'sum_partial',
      bindings: [x.slice('sum'), part.slice('sum')],
      u: [outer, r, inner, outer * chunks * inner, chunk, 0, 0, 0], f: [1],
    });
    const y = sumRaw(part, outer, chunks, inner, scale, shape);
    part.dispose();
    return y;
  }
  const y = out(shape);
  launch1d(nOut, {
    module: 'reduce:sum', label: 'sum',
    bindings: [x.slice('sum'), y.slice('sum')],
    u: [outer, r, inner, nOut, Math.max(1, r), 0, 0, 0], f: [scale],
  });
  return y;
}

function expandRaw(g: Tensor, outer: number, r: number, inner: number, scale: number, shape: readonly number[]): Tensor {
  const dx = out(shape);
  const n = outer * r * inner;
  launch1d(n, { module: 'reduce:expand', label: 'sum_backward', bindings: [g.slice('expand'), dx.slice('expand')], u: [outer, r, inner, n, 1, 0, 0, 0], f: [scale] });
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
  launch1d(n, { module: 'reduce:max', label: op, bindings: [x.slice(op), y.slice(op), arg.slice(op)], u: [outer, r, inner, n, r, 0, 0, 0], f: [1] });
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
    launch1d(n, { module: 'reduce:scatter', label: 'max_backward', bindings: [g.slice('max'), a.slice('max'), dx.slice('max')], u: [outer, r, inner, n, 1, 0, 0, 0], f: [1] });
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
