// Shared helpers for op launchers: argument checks that name the op and the
// shapes, shape arithmetic, and packing of shapes/strides into uniform vec4 arrays.

import { Tensor, Shape, shapeStr, empty, RELEASED_DEVICE, type DType } from '../tensor/index.js';
import { OpError } from '../errors.js';
import { gpu, grid } from '../gpu/index.js';

export { OpError, shapeStr, grid, gpu };

export function check(t: unknown, op: string, arg: string): Tensor {
  if (!(t instanceof Tensor)) throw new OpError(op, `argument '${arg}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.disposed) throw new OpError(op, `argument '${arg}' (tensor #${t.id} ${shapeStr(t.shape)}) was used after dispose()`);
  if (t.deviceReleased) throw new OpError(op, `argument '${arg}' (tensor #${t.id} ${shapeStr(t.shape)}) ${RELEASED_DEVICE}`);
  return t;
}

export function checkF32(t: unknown, op: string, arg: string): Tensor {
  const x = check(t, op, arg);
  if (x.dtype !== 'f32') throw new OpError(op, `argument '${arg}' must have dtype f32, got ${x.dtype} ${shapeStr(x.shape)}`);
  return x;
}

export function checkI32(t: unknown, op: string, arg: string): Tensor {
  const x = check(t, op, arg);
  if (x.dtype !== 'i32') throw new OpError(op, `argument '${arg}' must have dtype i32, got ${x.dtype} ${shapeStr(x.shape)}`);
  return x;
}

/**
 * Check both operands of a two-tensor op are live f32 tensors; a dtype mismatch names
 * the op and both operands' dtypes and shapes.
 */
export function checkF32Pair(a: unknown, b: unknown, op: string, an = 'a', bn = 'b'): [Tensor, Tensor] {
  const x = check(a, op, an);
  const y = check(b, op, bn);
  if (x.dtype !== 'f32' || y.dtype !== 'f32') {
    throw new OpError(op, `expects f32 operands, got ${an} ${x.dtype} ${shapeStr(x.shape)} and ${bn} ${y.dtype} ${shapeStr(y.shape)}`);
  }
  return [x, y];
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** NumPy/PyTorch broadcasting of two shapes, or an error naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new OpError(op, `shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together (dim ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` when broadcast to `out` (0 on broadcast dims), right-aligned. */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  const r = out.length;
  const res: number[] = [];
  for (let i = 0; i < r; i++) {
    const j = shape.length - r + i;
    res.push(j < 0 || shape[j] === 1 ? 0 : st[j]);
  }
  return res;
}

export function out(shape: Shape, dtype: DType = 'f32'): Tensor {
  return empty(shape, dtype);
}

export function normAxis(op: string, axis: number, rank: number, shape?: Shape): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new OpError(op, `axis ${axis} is out of range for a tensor of rank ${rank}${shape ? ` ${shapeStr(shape)}` : ''}`);
  }
  return a;
}

/**
 * Refuse option names an op does not know (a misspelt option would otherwise be ignored),
 * naming the op and the options it takes; `hint` adds advice for a known former name.
 */
export function checkOptions(op: string, opts: object | undefined, known: readonly string[], hint: Record<string, string> = {}): void {
  if (!opts) return;
  if (typeof opts !== 'object') throw new OpError(op, `options must be an object, got ${typeof opts}`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new OpError(op, `unknown option '${k}'${hint[k] ? ` (${hint[k]})` : ''}; options: ${known.join(', ')}`);
  }
}
