// Reductions (sum, mean, max) along each axis, keepDim, whole-tensor, the chunked path for
// long sums, argmax (ties → first), against float64 references; gradients by finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops } from './helpers/lib.mjs';
import { rng, size, assertClose, checkGrad, refReduce, dot } from './helpers/ref.mjs';

const SHAPES = [[3, 5, 7], [1, 33, 1], [2, 65], [1], [70, 3]];

for (const op of ['sum', 'mean', 'max']) {
  test(`${op}: every axis, keepDim, negative axis, whole tensor`, async () => {
    const r = rng(op.length * 3 + 1);
    for (const shape of SHAPES) {
      const x = Float64Array.from(Float32Array.from(r.uniform(size(shape), -2, 2)));
      const t = tensor(Float32Array.from(x), shape);
      for (let axis = -shape.length; axis < shape.length; axis++) {
        for (const keepDim of [false, true]) {
          const y = ops[op](t, { axis, keepDim });
          const a = axis < 0 ? axis + shape.length : axis;
          const expShape = keepDim ? shape.map((d, i) => (i === a ? 1 : d)) : shape.filter((_, i) => i !== a);
          assert.equal(y.shape, expShape, `${op} ${JSON.stringify(shape)} axis ${axis}: shape`);
          assertClose(await y.read(), refReduce(x, shape, axis, op).y, { rtol: 1e-5, atol: 1e-5, what: `${op} ${JSON.stringify(shape)} axis ${axis}` });
          y.dispose();
        }
      }
      const all = ops[op](t);
      assert.equal(all.shape, []);
      assertClose(await all.read(), refReduce(x, shape, undefined, op).y, { rtol: 1e-5, atol: 1e-5, what: `${op} all` });
      const n = ops[op](t, 0); // a number is an axis
      assert.equal(n.shape, shape.slice(1));
      assertClose(await n.read(), refReduce(x, shape, 0, op).y, { rtol: 1e-5, atol: 1e-5, what: `${op} axis given as a number` });
      for (const z of [t, all, n]) z.dispose();
    }
  });

  test(`${op}: backward by finite differences along each axis`, async () => {
    const r = rng(op.length * 7 + 2);
    const shape = [3, 4, 5];
    for (const axis of [undefined, 0, 1, 2, -1]) {
      const x = r.uniform(size(shape), -2, 2);
      const outN = axis === undefined ? 1 : size(shape) / shape[axis < 0 ? axis + 3 : axis];
      const w = Float64Array.from(Float32Array.from(r.uniform(outN)));
      const wt = tensor(Float32Array.from(w), [outN]);
      await checkGrad({
        inputs: [x],
        shapes: [shape],
        engine: (t) => ops.sum(ops.mul(ops.reshape(ops[op](t, { axis }), [outN]), wt)),
        ref: (a) => dot(w, refReduce(a, shape, axis, op).y),
        eps: 1e-5,
        what: `${op} axis ${axis}`,
      });
      wt.dispose();
    }
  });
}

test('sum/mean/max with keepDim: gradients broadcast back by finite differences', async () => {
  const r = rng(12);
  const shape = [2, 3, 4];
  for (const op of ['sum', 'mean', 'max']) {
    for (const axis of [0, 1, 2]) {
      const kshape = shape.map((d, i) => (i === axis ? 1 : d));
      const outN = kshape.reduce((a, b) => a * b, 1);
      const w = Float64Array.from(Float32Array.from(r.uniform(outN)));
      const wt = tensor(Float32Array.from(w), kshape);
      await checkGrad({
        inputs: [r.uniform(24, -2, 2)],
        shapes: [shape],
        // keepDim output times a weight of the same shape, then squared against the input
        // through broadcasting: the gradient also flows through the broadcast
        engine: (t) => ops.sum(ops.mul(ops.mul(ops[op](t, { axis, keepDim: true }), wt), t)),
        ref: (a) => {
          const y = refReduce(a, shape, axis, op).y;
          let s = 0;
          for (let i = 0; i < 24; i++) {
            const o = Math.floor(i / shape.slice(axis).reduce((p, q) => p * q, 1)) * (outN / shape.slice(0, axis).reduce((p, q) => p * q, 1)) + (i % shape.slice(axis + 1).reduce((p, q) => p * q, 1));
            s += y[o] * w[o] * a[i];
          }
          return s;
        },
        eps: 1e-5,
        what: `${op} keepDim axis ${axis}`,
      });
      wt.dispose();
    }
  }
});

test('sum: long reductions take the chunked path and stay accurate', async () => {
  const r = rng(99);
  for (const [shape, axis] of [[[300001], undefined], [[2, 5003], 1], [[4099, 3], 0], [[300001], 0]]) {
    const x = Float64Array.from(Float32Array.from(r.uniform(size(shape), 0, 1)));
    const t = tensor(Float32Array.from(x), shape);
    const s = ops.sum(t, { axis });
    assertClose(await s.read(), refReduce(x, shape, axis, 'sum').y, { rtol: 1e-5, atol: 1e-4, what: `sum ${JSON.stringify(shape)} axis ${axis}` });
    const m = ops.mean(t, { axis });
    assertClose(await m.read(), refReduce(x, shape, axis, 'mean').y, { rtol: 1e-5, atol: 1e-6, what: `mean ${JSON.stringify(shape)} axis ${axis}` });
    for (const z of [t, s, m]) z.dispose();
  }
});

test('sum: gradient of a long chunked sum is all ones (scaled for mean)', async () => {
  const n = 300001;
  const t = tensor(new Float32Array(n).fill(0.5), [n], { requiresGrad: true });
  const m = ops.mean(t);
  m.backward();
  const g = await t.grad.read();
  assert.is(g.length, n);
  let bad = 0;
  for (const v of g) if (!(Math.abs(v - 1 / n) <= 1e-12)) bad++; // a NaN counts as bad
  assert.is(bad, 0);
  t.dispose();
  m.dispose();
});

test('max: ties send the gradient to the first maximum', async () => {
  const t = tensor([1, 3, 3, 2, 5, 5, 5, 0], [2, 4], { requiresGrad: true });
  const m = ops.max(t, 1);
  assertClose(await m.read(), [3, 5]);
  ops.sum(m).backward();
  assertClose(await t.grad.read(), [0, 1, 0, 0, 1, 0, 0, 0]);
  t.dispose();
  m.dispose();
});

test('argmax: each axis, ties go to the first index, i32 output', async () => {
  const r = rng(4);
  const shape = [4, 6, 5];
  // few distinct values so ties are common
  const x = Float32Array.from(r.ints(size(shape), 3));
  const t = tensor(x, shape);
  for (const axis of [0, 1, 2, -1]) {
    const a = ops.argmax(t, axis);
    assert.is(a.dtype, 'i32');
    const got = await a.read();
    assert.ok(got instanceof Int32Array);
    assert.equal([...got], [...refReduce(x, shape, axis, 'max').arg], `argmax axis ${axis}`);
    a.dispose();
  }
  const d = ops.argmax(t); // default: last axis
  assert.equal(d.shape, [4, 6]);
  assert.equal([...(await d.read())], [...refReduce(x, shape, -1, 'max').arg], 'argmax default axis');
  d.dispose();
  t.dispose();
  const ties = tensor([2, 7, 7, 7, 1], [5]);
  const a = ops.argmax(ties);
  assert.equal([...(await a.read())], [1]);
  ties.dispose();
  a.dispose();
});

test('empty tensors: ops and reductions over an empty axis', async () => {
  const e = tensor([], [0, 3], { requiresGrad: true });
  assert.equal([...(await ops.sum(e, 0).read())], [0, 0, 0], 'sum over an empty axis is 0');
  assert.ok((await ops.mean(e, 0).read()).every(Number.isNaN), 'mean over an empty axis is NaN');
  assert.is((await ops.sum(e, 1).read()).length, 0);
  assert.is((await ops.exp(e).read()).length, 0);
  assert.is((await ops.softmax(e).read()).length, 0);
  assert.throws(() => ops.max(e, 0), /max: cannot reduce an empty axis of \[0, 3\]/);
  const loss = ops.add(ops.sum(ops.exp(e)), 1);
  assertClose(await loss.read(), [1]);
  loss.backward();
  assert.is((await e.grad.read()).length, 0);
  const k0 = ops.matmul(tensor([], [2, 0]), tensor([], [0, 3]));
  assert.equal([...(await k0.read())], [0, 0, 0, 0, 0, 0], 'a product over an empty inner dimension is 0');
});

test.run();
