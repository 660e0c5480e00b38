// Buffer utilities over storage slices of n f32 values (kernels/util.wgsl): fill, copy,
// accumulate in place, add, and the scan for a NaN or ±Inf (markNonFinite). They know nothing of shapes or autograd; the tensor layer's
// creation and in-place functions (full, fillInPlace, copy, assign, accumulate) and autograd's
// gradient sums are built on them.

import src from '../../kernels/util.wgsl';
import { registerKernel } from './kernels.js';
import { instantiate } from './template.js';
import { paramBlock, type ParamBlock, type ParamFields } from './params.js';
import { gpu } from './acquire.js';
import { grid } from './grid.js';
import type { BufferSlice } from './batch.js';

const FILE = 'kernels/util.wgsl';
const FillParams = paramBlock('util.fill', { n: 'u32', value: 'f32' });
const CountParams = paramBlock('util.count', { n: 'u32' });
const NonFiniteParams = paramBlock('util.nonfinite', { n: 'u32', slot: 'u32' });
function kernel<F extends ParamFields>(name: string, blocks: string[], params: ParamBlock<F>) {
  return registerKernel({ name: `util:${name}`, code: instantiate(src, blocks), file: FILE, params });
}
const K = {
  fill: kernel('fill', ['FILL'], FillParams),
  fill4: kernel('fill:v4', ['VEC4', 'FILL4'], FillParams),
  accumulate: kernel('accumulate', ['ACCUMULATE'], CountParams),
  accumulate4: kernel('accumulate:v4', ['VEC4', 'ACCUMULATE4'], CountParams),
  add: kernel('add', ['ADD'], CountParams),
  add4: kernel('add:v4', ['VEC4', 'ADD4'], CountParams),
  nonFinite4: kernel('nonfinite:v4', ['VEC4', 'NONFINITE4'], NonFiniteParams),
};

/**
 * Vector width of the element-wise kernels (these and the elementwise ops): vec4 kernels where
 * the element count is a multiple of 4, each invocation taking `k` vec4s; zero fills by
 * clearBuffer. Knobs for benchmarks and tests.
 */
export const vectorTuning = { vec4: true, k: 4, clear: true };

/** Whether n elements run on the vec4 kernels, and their grid. */
export function vec4Grid(n: number): [number, number] | null {
  return vectorTuning.vec4 && n % 4 === 0 ? grid(Math.ceil(n / 4 / vectorTuning.k), 256) : null;
}

/** out[0..n) = value. */
export function fillBuffer(out: BufferSlice, n: number, value: number): void {
  if (n === 0) return;
  if (Object.is(value, 0) && vectorTuning.clear) {
    // +0.0 is all-zero bits: clearBuffer (a memset on lavapipe) beats any kernel
    gpu().encoderForCopy().clearBuffer(out.buffer, out.offset, n * 4);
    return;
  }
  const g4 = vec4Grid(n);
  if (g4) gpu().dispatch({ kernel: K.fill4, label: 'fill', constants: { K: vectorTuning.k }, params: { n: n / 4, value }, bindings: [out], workgroups: g4 });
  else gpu().dispatch({ kernel: K.fill, label: 'fill', params: { n, value }, bindings: [out], workgroups: grid(n, 256) });
}

/** dst[0..n) += src[0..n). */
export function accumulateBuffer(dst: BufferSlice, src: BufferSlice, n: number): void {
  if (n === 0) return;
  const g4 = vec4Grid(n);
  if (g4) gpu().dispatch({ kernel: K.accumulate4, label: 'accumulate', constants: { K: vectorTuning.k }, params: { n: n / 4 }, bindings: [src, dst], workgroups: g4 });
  else gpu().dispatch({ kernel: K.accumulate, label: 'accumulate', params: { n }, bindings: [src, dst], workgroups: grid(n, 256) });
}

/** out[0..n) = a[0..n) + b[0..n). */
export function addBuffers(a: BufferSlice, b: BufferSlice, out: BufferSlice, n: number): void {
  if (n === 0) return;
  const g4 = vec4Grid(n);
  if (g4) gpu().dispatch({ kernel: K.add4, label: 'add', constants: { K: vectorTuning.k }, params: { n: n / 4 }, bindings: [a, b, out], workgroups: g4 });
  else gpu().dispatch({ kernel: K.add, label: 'add', params: { n }, bindings: [a, b, out], workgroups: grid(n, 256) });
}

/**
 * Find the first NaN or ±Inf among src[0..n) (n % 4 == 0, the slice 16-byte aligned): sets the u32
 * flags[slot] to max(flags[slot], 0xffffffff - i) for the first such i, so flags zeroed beforehand
 * read 0 when every value is finite. The divergence guard's scan of the parameter arenas: one
 * read-only pass, nothing waited.
 */
export function markNonFinite(src: BufferSlice, n: number, flags: BufferSlice, slot: number): void {
  if (n % 4 !== 0) throw new Error(`focusnet: internal: markNonFinite over ${n} values (a multiple of 4 expected)`);
  if (n === 0) return;
  const k = vectorTuning.k;
  gpu().dispatch({
    kernel: K.nonFinite4, label: 'nonfinite', constants: { K: k }, params: { n: n / 4, slot },
    bindings: [src, flags], workgroups: grid(Math.ceil(n / 4 / k), 256),
  });
}

/** dst[0..bytes) = src[0..bytes) (copyBufferToBuffer in the open encoder). */
export function copyBuffer(src: BufferSlice, dst: BufferSlice, bytes: number): void {
  if (bytes > 0) gpu().copy(src, dst, bytes);
}
