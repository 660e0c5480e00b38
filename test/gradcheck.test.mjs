// gradcheck(fn, inputs, { eps, atol, rtol }): autograd against central finite differences of the
// same f32 function, as torch.autograd.gradcheck. It must pass on correct rules (composites of
// several ops, conv and batchnorm included) and fail, naming the input and element, on a wrong one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, internal, gradcheck } from './helpers/lib.mjs';
import lib from './helpers/lib.mjs';
import { rng } from './helpers/ref.mjs';

const r = rng(77);
const t = (shape, lo = -1, hi = 1, grad = true) => tensor(Float32Array.from(r.uniform(shape.reduce((a, b) => a * b, 1), lo, hi)), shape, { requiresGrad: grad });

test('passes on composites of elementwise ops, reductions, softmax and matmul (broadcasting)', async () => {
  const a = t([3, 4]);
  const b = t([4], 0.5, 2);
  const w = t([4, 2]);
  const v = t([2, 3]);
  const f = (a, b, w, v) => {
    const m = ops.matmul(ops.softmax(ops.div(a, b), -1), ops.tanh(w));
    const q = ops.matmul(v, ops.sigmoid(a));
    return ops.add(ops.sum(ops.mul(m, m)), ops.mean(ops.mul(q, ops.exp(b))));
  };
  assert.is(await gradcheck(f, [a, b, w, v]), true);
  assert.is(await gradcheck((a, b) => ops.mean(ops.logSoftmax(ops.sub(ops.maximum(a, ops.neg(a)), ops.exp(b)), 1)), [a, b]), true);
});

test('passes on conv2d (stride 2, padding, bias) and batchNorm2d in training mode', async () => {
  const x = t([2, 3, 5, 6]);
  const w = t([4, 3, 3, 3], -0.5, 0.5);
  const bias = t([4], -0.2, 0.2);
  assert.is(await gradcheck((x, w, b) => ops.mean(ops.square(ops.conv2d(x, w, b, { stride: 2, padding: 1 }))), [x, w, bias]), true);
  const gamma = t([3], 0.5, 1.5);
  const beta = t([3], -0.5, 0.5);
  const y = t([4, 3, 2, 3], -2, 2);
  // a loss that is not invariant to the normalisation (sum of squares would be)
  const proj = t([4, 3, 2, 3], -1, 1, false);
  assert.is(await gradcheck((x, g, b) => ops.sum(ops.mul(ops.batchNorm2d(x, g, b, null, null, { training: true }), proj)), [y, gamma, beta]), true);
});

test('inputs without requiresGrad and i32 inputs are not checked, and are left as they were', async () => {
  const x = t([5]);
  const labels = tensor(Int32Array.from([1, 0, 2]), [3], { dtype: 'i32' });
  const z = t([3, 3]);
  assert.is(await gradcheck((z, l) => lib.losses.crossEntropy(z, l), [z, labels]), true);
  assert.is(z.grad, null, 'the input got no .grad (the check ran on copies)');
  const none = await gradcheck((x) => ops.sum(x), [tensor([1, 2], [2])]).then(() => null, (err) => err);
  assert.match(String(none), /no input is an f32 tensor with requiresGrad/);
  const e = await gradcheck((x) => x, [x]).then(() => null, (err) => err);
  assert.match(String(e), /fn must return a single-element tensor, got \[5\]/);
});

test('fails on a wrong backward rule, naming the input, the element and both values', async () => {
  // y = 2x with a rule that says 3g for element 0.. (wrong everywhere)
  const bad = (x) => {
    const y = ops.affine(x, 2);
    const out = internal.binaryRaw('mul', y, ops.fill([1], 1));
    internal.record('bad_double', [x], out, [], (g) => [ops.affine(g, 3)]);
    return ops.sum(out);
  };
  const x = t([2, 3]);
  const e = await gradcheck(bad, [x]).then(() => null, (err) => err);
  assert.ok(e instanceof lib.GradcheckError, `expected a GradcheckError, got ${e}`);
  assert.match(e.message, /^gradcheck: input 0 \[2, 3\], element 0: autograd gives 3, central finite differences 2(\.0\d*|\.99\d*)? \(eps 0\.01, atol 0\.001, rtol 0\.01\)$/);
  assert.is(e.input, 0);
  assert.is(e.element, 0);
  assert.is(await gradcheck(bad, [x], { raiseException: false }), false);
});

test.run();
