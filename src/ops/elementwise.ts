// Elementwise ops: the launchers of the table in elementwise-table.ts and the differentiable ops
// built on them. A launch picks a kernel form by the operands' shapes:
//   - vec4 (K vec4s per invocation) when the element count is a multiple of 4 (slices start at
//     256-byte aligned offsets, so vec4 indexing is aligned), for same-shape operands and for one
//     operand broadcast along rows ([.., N] and [N], N % 4 == 0) or channels ([B, C, H, W] and
//     [1, C, 1, 1], H*W % 4 == 0);
//   - scalar otherwise (strides with broadcasting, rank <= 8).
// A binary op's backward runs one table-generated kernel per operand that needs one (reading only
// the operands its expression names), summed down to the operand's shape when it was broadcast.

import { gpu, grid, vectorTuning, vec4Grid, type BufferSlice } from '../gpu/index.js';
import { Tensor, Shape, numel, fillInPlace, full } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { checkF32, checkF32Pair, sameShape, broadcastShapes, broadcastStrides, out, OpError, shapeStr } from './common.js';
import { sumTo, sumToOwned } from './reduce.js';
import { UNARY, BINARY, UnaryName, BinaryName, EwFlat, EwStrided, EwBroadcast, ewKernel, gradKernel, operandsOf } from './elementwise-table.js';

export { UNARY, BINARY };
export type { UnaryName, BinaryName };

// ---- launches ---------------------------------------------------------------------------------

/** A same-shape launch over n elements of `module` (its ':v4' form when n % 4 == 0). */
function launchFlat(module: string, label: string | undefined, bindings: BufferSlice[], n: number, alpha = 0, beta = 0, scalarStrided = false): void {
  const g4 = vec4Grid(n);
  if (g4) {
    gpu().dispatch({ kernel: ewKernel(`${module}:v4`, EwFlat), label, constants: { K: vectorTuning.k }, params: { n: n / 4, alpha, beta }, bindings, workgroups: g4 });
  } else if (scalarStrided) {
    // binary kernels' scalar form is the strided one: rank 0 is its same-shape fast path
    gpu().dispatch({ kernel: ewKernel(module, EwStrided), label, params: { n, rank: 0, shape: [], astr: [], bstr: [], alpha, beta }, bindings, workgroups: grid(n, 256) });
  } else {
    gpu().dispatch({ kernel: ewKernel(module, EwFlat), label, params: { n, alpha, beta }, bindings, workgroups: grid(n, 256) });
  }
}

/**
 * How `shape` reads when broadcast to `outShape`, for the vec4 broadcast kernels:
 * s = ((4 i) / inner) % count, lanes s + k * step. Null when it does not fit (the non-1 dims must
 * be one contiguous run matching outShape, with inner % 4 == 0, or inner == 1 and count % 4 == 0).
 */
function bcastPattern(shape: Shape, outShape: Shape): { inner: number; count: number; step: number } | null {
  const r = outShape.length;
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < r; i++) {
    const d = shape[shape.length - r + i] ?? 1;
    if (d === 1) continue;
    if (d !== outShape[i]) return null;
    if (lo < 0) lo = i;
    else if (hi !== i) return null; // a gap: not one contiguous run
    hi = i + 1;
  }
  const n = numel(outShape);
  if (lo < 0) return { inner: n, count: 1, step: 0 }; // a single element broadcast everywhere
  const inner = numel(outShape.slice(hi));
  const count = numel(outShape.slice(lo, hi));
  if (inner % 4 === 0) return { inner, count, step: 0 };
  if (inner === 1 && count % 4 === 0) return { inner: 1, count, step: 1 };
  return null;
}

function broadcastParams(n: number, pat: { inner: number; count: number; step: number }) {
  return { n: n / 4, ...pat, inner_step: 1024 % pat.inner, count_step: Math.floor(1024 / pat.inner) % pat.count, alpha: 0, beta: 0 };
}

function stridedParams(outShape: Shape, as: Shape, bs: Shape) {
  return {
    n: numel(outShape), rank: outShape.length, shape: outShape, astr: broadcastStrides(as, outShape), bstr: broadcastStrides(bs, outShape), alpha: 0, beta: 0,
  };
}

function unaryRaw(name: UnaryName, x: Tensor, alpha = 0, beta = 0): Tensor {
  const y = out(x.shape);
  if (x.size > 0) launchFlat(`ew:${name}`, undefined, [x.slice(name), y.slice(name)], x.size, alpha, beta);
  return y;
}

/** @internal dx of a table op from the upstream gradient and the saved x or y (see UNARY). */
export function unaryBackward(name: UnaryName, g: Tensor, saved: Tensor, alpha = 0, beta = 0): Tensor {
  const dx = out(g.shape);
  if (g.size > 0) launchFlat(`ew:${name}:bwd`, `${name}_backward`, [g.slice(name), saved.slice(name), dx.slice(name)], g.size, alpha, beta);
  return dx;
}

export function unary(name: UnaryName, x: Tensor, alpha = 0, beta = 0): Tensor {
  checkF32(x, name, 'x');
  const y = unaryRaw(name, x, alpha, beta);
  record(name, [x], y, [UNARY[name].saves === 'x' ? x : y], (g, [s]) => [unaryBackward(name, g, s, alpha, beta)]);
  return y;
}

/** @internal the forward kernel of a binary table op, with broadcasting. */
export function binaryRaw(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  const outShape = broadcastShapes(name, a.shape, b.shape);
  if (outShape.length > 8) throw new OpError(name, `broadcasting supports rank <= 8, got ${shapeStr(outShape)}`);
  const y = out(outShape);
  const n = numel(outShape);
  if (n === 0) return y;
  const aFull = a.size === n;
  const bFull = b.size === n;
  const bindings = [a.slice(name), b.slice(name), y.slice(name)];
  if (aFull && bFull) {
    launchFlat(`ew:${name}`, undefined, bindings, n, 0, 0, true);
    return y;
  }
  if (vec4Grid(n) && (aFull || bFull)) {
    const pat = aFull ? bcastPattern(b.shape, outShape) : bcastPattern(a.shape, outShape);
    if (pat) {
      gpu().dispatch({ kernel: ewKernel(`ew:${name}:${aFull ? 'bcb' : 'bca'}:v4`, EwBroadcast), constants: { K: vectorTuning.k }, params: broadcastParams(n, pat), bindings, workgroups: vec4Grid(n)! });
      return y;
    }
  }
  gpu().dispatch({ kernel: ewKernel(`ew:${name}`, EwStrided), params: stridedParams(outShape, a.shape, b.shape), bindings, workgroups: grid(n, 256) });
  return y;
}

/**
 * One operand's gradient of a binary table op: its expression over g (the output's shape) and the
 * saved operands it names, then summed down to the operand's shape.
 */
function binaryGrad(name: BinaryName, which: 'da' | 'db', g: Tensor, sa: Tensor | null, sb: Tensor | null, sz: Tensor | null, shape: Shape): Tensor {
  const expr = BINARY[name][which];
  if (expr === null) return sameShape(g.shape, shape) ? g.detachedView(shape) : sumTo(g, shape);
  const use = operandsOf(expr);
  const n = g.size;
  const r = out(g.shape);
  const bindings = [g.slice(name)];
  if (use.x) bindings.push(sa!.slice(name));
  if (use.y) bindings.push(sb!.slice(name));
  if (use.z) bindings.push(sz!.slice(name));
  bindings.push(r.slice(name));
  if (n > 0) {
    const label = `${name}_backward`;
    const xb = use.x && sa!.size !== n;
    const yb = use.y && sb!.size !== n;
    if (!xb && !yb) {
      const g4 = vec4Grid(n);
      if (g4) gpu().dispatch({ kernel: ewKernel(gradKernel(name, which, 'flat').name, EwFlat), label, constants: { K: vectorTuning.k }, params: { n: n / 4, alpha: 0, beta: 0 }, bindings, workgroups: g4 });
      else gpu().dispatch({ kernel: ewKernel(gradKernel(name, which, 'strided').name, EwStrided), label, params: { n, rank: 0, shape: [], astr: [], bstr: [], alpha: 0, beta: 0 }, bindings, workgroups: grid(n, 256) });
    } else {
      const pat = xb !== yb && vec4Grid(n) ? bcastPattern((xb ? sa! : sb!).shape, g.shape) : null;
      if (pat) {
        gpu().dispatch({ kernel: ewKernel(gradKernel(name, which, xb ? 'bcx' : 'bcy').name, EwBroadcast), label, constants: { K: vectorTuning.k }, params: broadcastParams(n, pat), bindings, workgroups: vec4Grid(n)! });
      } else {
        gpu().dispatch({ kernel: ewKernel(gradKernel(name, which, 'strided').name, EwStrided), label, params: stridedParams(g.shape, sa?.shape ?? g.shape, sb?.shape ?? g.shape), bindings, workgroups: grid(n, 256) });
      }
    }
  }
  return sumToOwned(r, shape);
}

function binary(name: BinaryName, a: Tensor, b: Tensor): Tensor {
  checkF32Pair(a, b, name);
  const y = binaryRaw(name, a, b);
  const d = BINARY[name];
  // save exactly what the gradient expressions read
  const used = [d.da, d.db].map((e) => (e ? operandsOf(e) : { x: false, y: false, z: false }));
  const saveX = used.some((u) => u.x);
  const saveY = used.some((u) => u.y);
  const saveZ = used.some((u) => u.z);
  const saved = [...(saveX ? [a] : []), ...(saveY ? [b] : []), ...(saveZ ? [y] : [])];
  const as = a.shape;
  const bs = b.shape;
  record(name, [a, b], y, saved, (g, sv) => {
    let k = 0;
    const sa = saveX ? sv[k++] : null;
    const sb = saveY ? sv[k++] : null;
    const sz = saveZ ? sv[k++] : null;
    return [
      a.requiresGrad ? binaryGrad(name, 'da', g, sa, sb, sz, as) : null,
      b.requiresGrad ? binaryGrad(name, 'db', g, sa, sb, sz, bs) : null,
    ];
  });
  return y;
}

// ---- public ops -------------------------------------------------------------------------------

type Operand = Tensor | number;

function scalarOp(name: BinaryName, a: Operand, b: Operand): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) {
    if (name === 'add') return unary('affine', a, 1, b);
    if (name === 'sub') return unary('affine', a, 1, -b);
    if (name === 'mul') return unary('affine', a, b, 0);
    if (name === 'div') return unary('affine', a, 1 / b, 0);
  }
  if (typeof a === 'number' && b instanceof Tensor) {
    if (name === 'add') return unary('affine', b, 1, a);
    if (name === 'sub') return unary('affine', b, -1, a);
    if (name === 'mul') return unary('affine', b, a, 0);
  }
  const ta = typeof a === 'number' ? full([1], a) : a;
  const tb = typeof b === 'number' ? full([1], b) : b;
  const r = binary(name, ta, tb);
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return r;
}

export const add = (a: Operand, b: Operand): Tensor => scalarOp('add', a, b);
export const sub = (a: Operand, b: Operand): Tensor => scalarOp('sub', a, b);
export const mul = (a: Operand, b: Operand): Tensor => scalarOp('mul', a, b);
export const div = (a: Operand, b: Operand): Tensor => scalarOp('div', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => binary('minimum', a, b);
export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const relu6 = (x: Tensor): Tensor => unary('relu6', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** alpha * x + beta */
export const affine = (x: Tensor, alpha: number, beta = 0): Tensor => unary('affine', x, alpha, beta);

/** A tensor of `shape` filled with `value` (no gradient): `full` under its ops name. */
export function fill(shape: Shape, value: number): Tensor {
  return full(shape, value);
}

export { fillInPlace };
