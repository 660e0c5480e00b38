// In-place and copying buffer operations on tensors (no autograd): the tensor-level face of
// src/gpu/buffers.ts, with argument checks that name the operation. The optimizer, the metrics,
// autograd's gradient bookkeeping and users (ops.fillInPlace, ops.copy, ...) call these.

import { fillBuffer, accumulateBuffer, addBuffers, copyBuffer } from '../gpu/index.js';
import { OpError } from '../errors.js';
import { Tensor, shapeStr, RELEASED_DEVICE } from './tensor.js';
import { empty } from './create.js';

function live(t: unknown, op: string, arg: string): Tensor {
  if (!(t instanceof Tensor)) throw new OpError(op, `argument '${arg}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.disposed) throw new OpError(op, `argument '${arg}' (tensor #${t.id} ${shapeStr(t.shape)}) was used after dispose()`);
  if (t.deviceReleased) throw new OpError(op, `argument '${arg}' (tensor #${t.id} ${shapeStr(t.shape)}) ${RELEASED_DEVICE}`);
  return t;
}

function sameSize(op: string, a: Tensor, b: Tensor): void {
  if (a.size !== b.size) throw new OpError(op, `sizes differ: ${shapeStr(a.shape)} vs ${shapeStr(b.shape)}`);
}

/** Overwrite `t` with `value`, in place. */
export function fillInPlace(t: Tensor, value: number): void {
  live(t, 'fill_', 't');
  fillBuffer(t.slice('fill_'), t.size, value);
}

/** dst += src, in place (same number of elements). */
export function accumulate(dst: Tensor, src: Tensor): void {
  live(dst, 'accumulate', 'dst');
  live(src, 'accumulate', 'src');
  sameSize('accumulate', dst, src);
  accumulateBuffer(dst.slice('accumulate'), src.slice('accumulate'), dst.size);
}

/** a + b for tensors of the same number of elements, shaped like `a` (autograd's gradient sums). */
export function addSameSize(a: Tensor, b: Tensor): Tensor {
  sameSize('add', a, b);
  const y = empty(a.shape);
  addBuffers(a.slice('add'), b.slice('add'), y.slice('add'), a.size);
  return y;
}

/** A copy with its own storage (no gradient). */
export function copy(t: Tensor): Tensor {
  live(t, 'copy', 't');
  const y = empty(t.shape, t.dtype);
  copyBuffer(t.slice('copy'), y.slice('copy'), t.size * 4);
  return y;
}

/** Copy src's data into dst in place (same number of elements). */
export function assign(dst: Tensor, src: Tensor): void {
  live(dst, 'assign', 'dst');
  live(src, 'assign', 'src');
  sameSize('assign', dst, src);
  copyBuffer(src.slice('assign'), dst.slice('assign'), src.size * 4);
}
