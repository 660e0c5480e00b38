// gather along the last axis, one-hot, and shape ops (reshape/flatten share storage).

import src from '../../kernels/index.wgsl';
import { registerKernel, instantiate, paramBlock, grid } from '../gpu/index.js';
import { Tensor, numel } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { check, checkF32, checkI32, gpu, out, OpError, shapeStr } from './common.js';
import type { BufferSlice } from '../gpu/index.js';

const FILE = 'kernels/index.wgsl';
/** The [rows, row_length] view and the number of outputs (one invocation each). */
const IndexParams = paramBlock('index', { rows: 'u32', row_length: 'u32', outputs: 'u32' });
const kernel = (name: string, blocks: string[]) => registerKernel({ name: `index:${name}`, code: instantiate(src, blocks), file: FILE, params: IndexParams });
const K = { gather: kernel('gather', ['GATHER']), gatherBwd: kernel('gather_bwd', ['GATHER_BWD', 'SCATTER']), oneHot: kernel('one_hot', ['ONE_HOT', 'SCATTER']) };

/** One invocation per output, workgroup 256. */
function launch(k: (typeof K)['gather'], label: string, rows: number, n: number, outputs: number, bindings: BufferSlice[]): void {
  gpu().dispatch({ kernel: k, label, params: { rows, row_length: n, outputs }, bindings, workgroups: grid(outputs, 256) });
}

/** out[r] = x[r, idx[r]] for x [rows, n] and idx i32 [rows]. */
export function gather(x: Tensor, idx: Tensor): Tensor {
  checkF32(x, 'gather', 'x');
  checkI32(idx, 'gather', 'index');
  if (x.rank !== 2 || idx.rank !== 1 || idx.shape[0] !== x.shape[0]) {
    throw new OpError('gather', `expects x [rows, n] and index [rows], got ${shapeStr(x.shape)} and ${shapeStr(idx.shape)}`);
  }
  const [rows, n] = x.shape;
  const y = out([rows]);
  launch(K.gather, 'gather', rows, n, rows, [x.slice('gather'), idx.slice('gather'), y.slice('gather')]);
  record('gather', [x], y, [idx], (g, [si]) => {
    const dx = out([rows, n]);
    launch(K.gatherBwd, 'gather_backward', rows, n, rows * n, [g.slice('gather'), si.slice('gather'), dx.slice('gather')]);
    return [dx];
  });
  return y;
}

/** One-hot rows [B, n] (f32) for an i32 index tensor [B]. */
export function oneHot(idx: Tensor, n: number): Tensor {
  checkI32(idx, 'oneHot', 'index');
  if (idx.rank !== 1) throw new OpError('oneHot', `index must be 1-D, got ${shapeStr(idx.shape)}`);
  if (!Number.isInteger(n) || n <= 0) throw new OpError('oneHot', `number of classes must be a positive integer, got ${n}`);
  const rows = idx.shape[0];
  const y = out([rows, n]);
  launch(K.oneHot, 'one_hot', rows, n, rows * n, [idx.slice('oneHot'), y.slice('oneHot')]);
  return y;
}

/** Same data, another shape (one dimension may be -1). Shares storage; gradients flow. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  check(x, 'reshape', 'x');
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = numel(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) throw new OpError('reshape', `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    s[neg] = x.size / rest;
  }
  if (numel(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new OpError('reshape', `cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(shape)}`);
  }
  const y = x.detachedView(s);
  const xs = x.shape;
  record('reshape', [x], y, [], (g) => [g.detachedView(xs)]);
  return y;
}

/** Flatten all dimensions from `startDim` on (default 1, as nn.Flatten). */
export function flatten(x: Tensor, startDim = 1): Tensor {
  check(x, 'flatten', 'x');
  const keep = x.shape.slice(0, startDim);
  return reshape(x, [...keep, numel(x.shape.slice(startDim))]);
}
