// Bad input: shape and dtype mismatches throw errors that name the op and both shapes;
// GPU-side failures surface at the next readback naming the kernel (or file and line).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib, { tensor, ops, gpu, internal } from './helpers/lib.mjs';

const f = (shape) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape);
const i = (shape) => tensor(new Int32Array(shape.reduce((a, b) => a * b, 1)), shape);

test('binary ops: incompatible broadcast shapes name the op and both shapes', () => {
  const a = f([2, 3]);
  const b = f([4]);
  for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum']) {
    assert.throws(() => ops[op](a, b), new RegExp(`^${op}: shapes \\[2, 3\\] and \\[4\\] cannot be broadcast together`), op);
  }
  const c = f([3, 1, 5]);
  const d = f([4, 2]);
  assert.throws(() => ops.add(c, d), /add: shapes \[3, 1, 5\] and \[4, 2\] cannot be broadcast together \(dim 2: 5 vs 2\)/);
  const r9 = f([2, 1, 1, 1, 1, 1, 1, 1, 2]);
  const s9 = f([1, 1, 1, 1, 1, 1, 1, 1, 2]);
  assert.throws(() => ops.add(r9, s9), /add: broadcasting supports rank <= 8, got \[2, 1, 1, 1, 1, 1, 1, 1, 2\]/);
  try {
    ops.mul(a, b);
  } catch (e) {
    assert.instance(e, lib.OpError);
  }
});

test('dtype mismatches name the op and both operands', () => {
  const a = f([2, 3]);
  const k = i([3]);
  assert.throws(() => ops.add(a, k), /add: expects f32 operands, got a f32 \[2, 3\] and b i32 \[3\]/);
  assert.throws(() => ops.mul(k, a), /mul: expects f32 operands, got a i32 \[3\] and b f32 \[2, 3\]/);
  assert.throws(() => ops.matmul(a, i([3, 2])), /matmul: expects f32 operands, got a f32 \[2, 3\] and b i32 \[3, 2\]/);
  assert.throws(() => ops.linear(a, i([4, 3])), /linear: expects f32 operands, got x f32 \[2, 3\] and weight i32 \[4, 3\]/);
  assert.throws(() => ops.exp(k), /exp: argument 'x' must have dtype f32, got i32 \[3\]/);
  assert.throws(() => ops.sum(k), /sum: argument 'x' must have dtype f32, got i32 \[3\]/);
  assert.throws(() => ops.softmax(k), /softmax: argument 'x' must have dtype f32, got i32 \[3\]/);
  assert.throws(() => ops.gather(a, f([2])), /gather: argument 'index' must have dtype i32, got f32 \[2\]/);
  assert.throws(() => ops.oneHot(f([2]), 3), /oneHot: argument 'index' must have dtype i32, got f32 \[2\]/);
  assert.throws(() => ops.argmax(k), /argmax: argument 'x' must have dtype f32, got i32/);
});

test('matmul and linear: shape mismatches name both shapes', () => {
  assert.throws(() => ops.matmul(f([2, 3]), f([4, 5])), /matmul: inner dimensions differ: \[2, 3\] · \[4, 5\] \(3 vs 4\)/);
  assert.throws(() => ops.matmul(f([2, 3, 4]), f([3, 4, 5])), /matmul: batch sizes differ: \[2, 3, 4\] · \[3, 4, 5\]/);
  assert.throws(() => ops.matmul(f([3]), f([3, 2])), /matmul: operands must be 2-D or 3-D, got \[3\] and \[3, 2\]/);
  assert.throws(() => internal.matmulRaw(f([2, 3]), f([2, 3]), { transB: false }), /matmul: inner dimensions differ: \[2, 3\] · \[2, 3\] \(3 vs 2\)/);
  assert.throws(() => internal.matmulRaw(f([2, 3]), f([2, 4]), { transA: false, transB: true }), /matmul: inner dimensions differ: \[2, 3\] · \[2, 4\]ᵀ/);
  assert.throws(() => ops.linear(f([2, 3]), f([4, 5])), /linear: x \[2, 3\] has 3 features but weight \[4, 5\] expects 5/);
  assert.throws(() => ops.linear(f([2, 3]), f([4, 3]), f([5])), /linear: bias \[5\] must be \[4\]/);
  assert.throws(() => ops.linear(f([3]), f([4, 3])), /linear: expects x \[batch, in\] and weight \[out, in\], got \[3\] and \[4, 3\]/);
});

test('reductions, softmax, gather, oneHot: bad axes and shapes', () => {
  const a = f([2, 3]);
  assert.throws(() => ops.sum(a, 2), /sum: axis 2 is out of range for a tensor of rank 2 \[2, 3\]/);
  assert.throws(() => ops.mean(a, { axis: -3 }), /mean: axis -3 is out of range for a tensor of rank 2 \[2, 3\]/);
  assert.throws(() => ops.max(a, 5), /max: axis 5 is out of range/);
  assert.throws(() => ops.argmax(a, 2), /argmax: axis 2 is out of range/);
  assert.throws(() => ops.softmax(a, 3), /softmax: axis 3 is out of range for a tensor of rank 2 \[2, 3\]/);
  assert.throws(() => ops.gather(a, i([3])), /gather: expects x \[rows, n\] and index \[rows\], got \[2, 3\] and \[3\]/);
  assert.throws(() => ops.gather(f([6]), i([6])), /gather: expects x \[rows, n\] and index \[rows\], got \[6\] and \[6\]/);
  assert.throws(() => ops.oneHot(i([2, 2]), 3), /oneHot: index must be 1-D, got \[2, 2\]/);
  assert.throws(() => ops.oneHot(i([2]), 0), /oneHot: number of classes must be a positive integer, got 0/);
});

test('tensor creation and in-place ops: sizes that do not match', async () => {
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /tensor: 3 values do not fill shape \[2, 2\] \(4 elements\)/);
  assert.throws(() => tensor([1, 2], [2], { dtype: 'f64' }), /tensor: unknown dtype 'f64' \(use 'f32', 'i32' or 'f16'\)/);
  assert.throws(() => lib.empty([2, -1]), /tensor: invalid shape \[2, -1\]/);
  assert.throws(() => ops.assign(f([2, 2]), f([3])), /assign: sizes differ: \[2, 2\] vs \[3\]/);
  assert.throws(() => ops.accumulate(f([2, 2]), f([5])), /accumulate: sizes differ: \[2, 2\] vs \[5\]/);
  assert.throws(() => ops.add(null, f([2])), /affine: argument 'x' must be a Tensor, got null|add: argument 'a' must be a Tensor, got null/);
  assert.throws(() => ops.exp([1, 2]), /exp: argument 'x' must be a Tensor, got object/);
});

test('item() of a multi-element tensor rejects', async () => {
  try {
    await f([2, 2]).item();
    assert.unreachable('item() should reject');
  } catch (e) {
    assert.match(e.message, /item: expected a single-element tensor, got \[2, 2\]/);
  }
});

const { paramBlock, registerKernel } = lib.internal;
const TwoBuffers = paramBlock('test.broken', { n: 'u32' });
const twoBuffers = registerKernel({
  name: 'test:two_buffers', file: 'test/errors.test.mjs', params: TwoBuffers,
  code: '//#params\n@group(0) @binding(1) var<storage, read> a: array<f32>;\n@group(0) @binding(2) var<storage, read_write> b: array<f32>;\n@compute @workgroup_size(1) fn main() { b[0] = a[0] + f32(p.n); }',
});
const brokenDispatch = (t) =>
  // the kernel needs bindings 1 and 2; give it only one
  gpu().dispatch({ kernel: twoBuffers, label: 'deliberately_broken', params: { n: 0 }, bindings: [t.slice('test')], workgroups: [1] });

test('a GPU validation error surfaces at the next readback naming the kernel', async () => {
  const t = f([4]);
  await gpu().sync();
  const ok = ops.exp(t); // another kernel in the same batch
  brokenDispatch(t);
  try {
    await t.read();
    assert.unreachable('the broken dispatch should have failed');
  } catch (e) {
    assert.instance(e, lib.GpuError);
    // per-batch error scope: names the batch's kernels and the cause
    assert.match(e.message, /GPU validation error .*in kernel '[^']*deliberately_broken[^']*': .*(entries|binding)/is);
  }
  // the engine keeps working afterwards
  const y = ops.add(t, 1);
  assert.equal([...(await y.read())], [2, 2, 2, 2]);
  // with one error scope per dispatch the message names exactly the broken kernel
  gpu().checkEachDispatch = true;
  try {
    ops.exp(t);
    brokenDispatch(t);
    await t.read();
    assert.unreachable('the broken dispatch should have failed');
  } catch (e) {
    assert.match(e.message, /GPU validation error in kernel 'deliberately_broken': .*(entries|binding)/is);
  } finally {
    gpu().checkEachDispatch = false;
  }
  for (const z of [t, ok, y]) z.dispose();
});

test('a WGSL compile error names the file and line', async () => {
  const broken = registerKernel({
    name: 'test:broken', file: 'kernels/broken-for-test.wgsl', params: TwoBuffers,
    code: '//#params\n@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = undefined_thing + f32(p.n);\n}\n',
  });
  gpu().dispatch({ kernel: broken, params: { n: 1 }, bindings: [], workgroups: [1] });
  try {
    await gpu().sync();
    assert.unreachable('the broken kernel should have failed');
  } catch (e) {
    assert.instance(e, lib.ShaderCompileError);
    assert.match(e.message, /kernels\/broken-for-test\.wgsl:4:\d+: error: .*undefined_thing/);
  }
  await gpu().sync(); // errors are reported once
});

test.run();
