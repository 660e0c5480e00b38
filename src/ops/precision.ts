// The element type of the operands a GEMM-shaped kernel reads: 'f32', or 'f16' (mixed precision,
// src/amp). The kernels of matmul and convolution declare their operand bindings as
// `array<ELEM>` / `array<vec4<ELEM>>` and convert every loaded value to f32 (`f32(X[i])`,
// `vec4<f32>(A4[i])`), so products and sums are f32 whatever the operands: one source, two
// instantiations. An f16 instantiation starts with `enable f16;` (on the first line, so compiler
// messages keep the file's line numbers) and needs the device feature 'shader-f16'.

import type { Tensor } from '../tensor/index.js';
import { gpu } from '../gpu/index.js';
import { check, OpError, shapeStr } from './common.js';

export type Elem = 'f32' | 'f16';

/** `code` (already instantiated) with ELEM replaced by `elem`, and `enable f16;` when it is f16. */
export function withElem(code: string, elem: Elem): string {
  const c = code.replace(/\bELEM\b/g, elem);
  return elem === 'f16' ? `enable f16; ${c}` : c;
}

/** A registry-name suffix for an element type ('' for f32, so f32 names stay as they were). */
export function elemSuffix(elem: Elem): string {
  return elem === 'f16' ? ':f16' : '';
}

/** Whether the device can run f16 kernels (the adapter feature 'shader-f16' was granted). */
export function halfSupported(): boolean {
  return gpu().features.has('shader-f16');
}

/**
 * The operand element type shared by `tensors` (the named operands of a GEMM): all f32 or all f16
 * (PyTorch's "Input type and weight type should be the same"); else an error naming the op and
 * each operand's dtype.
 */
export function operandElem(op: string, named: Record<string, Tensor>): Elem {
  const entries = Object.entries(named);
  const d = entries[0][1].dtype;
  if ((d !== 'f32' && d !== 'f16') || entries.some(([, t]) => t.dtype !== d)) {
    throw new OpError(op, `operands must all be f32 or all f16, got ${entries.map(([n, t]) => `${n} ${t.dtype} ${shapeStr(t.shape)}`).join(', ')}`);
  }
  return d;
}

/**
 * Check the two operands of a GEMM-shaped op: live tensors, both f32 or both f16 (mixed
 * precision); returns their element type. Errors name the op and both operands.
 */
export function checkGemmPair(a: unknown, b: unknown, op: string, an = 'a', bn = 'b'): Elem {
  const x = check(a, op, an);
  const y = check(b, op, bn);
  const ok = (x.dtype === 'f32' || x.dtype === 'f16') && x.dtype === y.dtype;
  if (!ok) throw new OpError(op, `expects f32 operands, got ${an} ${x.dtype} ${shapeStr(x.shape)} and ${bn} ${y.dtype} ${shapeStr(y.shape)} (or f16 operands, both of them)`);
  return x.dtype as Elem;
}
