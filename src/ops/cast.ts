// Casts between f32 and f16 (kernels/cast.wgsl) and autocast, the mixed-precision mode of the
// GEMM-shaped ops (PyTorch's torch.autocast): while `autocast(fn)` runs, conv2d, linear and
// matmul cast their f32 operands to f16 before the product (the kernels then read f16 and
// accumulate in f32; their outputs stay f32); everything else runs as it would in f32.
//   castRaw(x, dtype)  the launcher, no autograd
//   cast(x, dtype)     differentiable: the gradient passes through unchanged, in f32
//                      (gradients are f32 whatever the dtype of the tensor they belong to)
// An f32 → f16 cast rounds to the nearest f16 (the device's conversion), sends magnitudes
// beyond the f16 range to ±Infinity and keeps NaN: an overflowed (scaled) gradient stays
// non-finite, which is how GradScaler (src/amp) finds it.

import src from '../../kernels/cast.wgsl';
import { registerKernel, instantiate, paramBlock, gpu, grid } from '../gpu/index.js';
import { Tensor, empty, type DType } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { check, OpError, shapeStr } from './common.js';
import { halfSupported } from './precision.js';

const CastParams = paramBlock('cast', { n: 'u32' });
const FILE = 'kernels/cast.wgsl';
const K = {
  f16: registerKernel({ name: 'cast:to_f16', code: instantiate(src, ['TO_F16']), file: FILE, params: CastParams }),
  f32: registerKernel({ name: 'cast:to_f32', code: instantiate(src, ['TO_F32']), file: FILE, params: CastParams }),
};

/** What mixed precision needs, or an error naming what the adapter lacks. */
export function requireHalf(op: string): void {
  if (halfSupported()) return;
  const i = gpu().info;
  throw new OpError(op, `mixed precision needs the adapter feature 'shader-f16', which this adapter (${i.vendor} ${i.description || i.architecture}, ${i.backend}) does not offer; use f32`);
}

/** x as `dtype` ('f32' or 'f16'); a new tensor even when x already has it. No autograd. */
export function castRaw(x: Tensor, dtype: 'f32' | 'f16', op = 'cast'): Tensor {
  if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new OpError(op, `casts f32 and f16 tensors, got ${x.dtype} ${shapeStr(x.shape)}`);
  if (dtype === 'f16' || x.dtype === 'f16') requireHalf(op);
  const y = empty(x.shape, dtype);
  if (x.size === 0) return y;
  if (x.dtype === dtype) {
    gpu().copy(x.slice(op), y.slice(op), y.slice(op).size);
    return y;
  }
  gpu().dispatch({
    kernel: K[dtype],
    label: `cast(${x.dtype}→${dtype})`,
    params: { n: x.size },
    bindings: [x.slice(op), y.slice(op)],
    workgroups: grid(Math.ceil(x.size / 2), 256),
  });
  return y;
}

/** Differentiable cast between f32 and f16 (PyTorch's x.to(dtype)); the gradient is f32 and passes through. */
export function cast(x: Tensor, dtype: DType): Tensor {
  check(x, 'cast', 'x');
  if (dtype !== 'f32' && dtype !== 'f16') throw new OpError('cast', `dtype must be 'f32' or 'f16', got '${String(dtype)}'`);
  const y = castRaw(x, dtype);
  record('cast', [x], y, [], (g) => [g.detachedView(x.shape)]);
  return y;
}

// ---- autocast ---------------------------------------------------------------------------------

let autocastOn = false;

/** Whether conv2d, linear and matmul cast their f32 operands to f16 now (inside autocast). */
export function isAutocastEnabled(): boolean {
  return autocastOn;
}

export interface AutocastOptions {
  /** false runs `fn` in f32 even inside an enclosing autocast (PyTorch's enabled=False) */
  enabled?: boolean;
}

/**
 * Run `fn` with mixed precision: conv2d, linear and matmul read f16 copies of their f32 operands
 * (torch.autocast(device_type, dtype=torch.float16)). `fn` must be synchronous (a forward pass
 * is: it only encodes GPU work); the backward pass of what ran inside uses the same precision,
 * so call `loss.backward()` outside. Needs the adapter feature 'shader-f16'.
 */
export function autocast<T>(fn: () => T, opts: AutocastOptions = {}): T {
  const enabled = opts.enabled ?? true;
  if (typeof fn !== 'function') throw new OpError('autocast', `expects a function to run, got ${typeof fn}`);
  if (enabled) requireHalf('autocast');
  const prev = autocastOn;
  autocastOn = enabled;
  let res: T;
  try {
    res = fn();
  } finally {
    autocastOn = prev;
  }
  if (res && typeof (res as { then?: unknown }).then === 'function') {
    throw new OpError('autocast', 'fn returned a promise: autocast covers synchronous code only (run the forward pass inside, await outside)');
  }
  return res;
}

/**
 * The operands of a GEMM-shaped op under autocast: f32 ones cast to f16 (differentiably), others
 * as they are; outside autocast, unchanged.
 */
export function autocastOperands<T extends (Tensor | null | undefined)[]>(...ts: T): T {
  if (!isAutocastEnabled()) return ts;
  return ts.map((t) => (t instanceof Tensor && t.dtype === 'f32' ? cast(t, 'f16') : t)) as T;
}

/**
 * The incoming gradient as a backward product's operand: an f16 copy when the forward read f16
 * operands (PyTorch runs backward in the forward's dtype; this is where a loss scale keeps small
 * gradients from flushing to zero), else itself. `done()` frees the copy.
 */
export function gradOperand(g: Tensor, elem: 'f32' | 'f16'): { g: Tensor; done(): void } {
  if (elem === 'f32') return { g, done: () => undefined };
  const h = castRaw(g, 'f16');
  return { g: h, done: () => h.dispose() };
}
