// gather, oneHot, reshape/flatten against references; gradients by finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops } from './helpers/lib.mjs';
import { rng, assertClose, checkGrad, dot } from './helpers/ref.mjs';

test('gather: out[r] = x[r, idx[r]] on awkward shapes', async () => {
  const r = rng(1);
  for (const [rows, n] of [[1, 1], [7, 13], [300, 3], [1, 257]]) {
    const x = Float32Array.from(r.uniform(rows * n));
    const idx = r.ints(rows, n);
    const tx = tensor(x, [rows, n]);
    const ti = tensor(idx, [rows]);
    const y = ops.gather(tx, ti);
    assert.equal(y.shape, [rows]);
    assertClose(await y.read(), Array.from(idx, (j, i) => x[i * n + j]), { rtol: 0, atol: 0, what: `gather [${rows}, ${n}]` });
    for (const t of [tx, ti, y]) t.dispose();
  }
});

test('gather: backward scatters into the picked entries (repeated classes too)', async () => {
  const r = rng(2);
  const [rows, n] = [6, 5];
  const idx = Int32Array.from([0, 4, 4, 2, 0, 3]);
  const ti = tensor(idx, [rows]);
  const w = Float64Array.from(Float32Array.from(r.uniform(rows)));
  const wt = tensor(Float32Array.from(w), [rows]);
  await checkGrad({
    inputs: [r.uniform(rows * n)],
    shapes: [[rows, n]],
    engine: (x) => ops.sum(ops.mul(ops.gather(x, ti), wt)),
    ref: (x) => dot(w, Array.from(idx, (j, i) => x[i * n + j])),
    what: 'gather',
  });
  ti.dispose();
  wt.dispose();
});

test('oneHot: rows of zeros with a one at the class', async () => {
  const idx = Int32Array.from([2, 0, 4, 4, 1]);
  const t = tensor(idx, [5]);
  const y = ops.oneHot(t, 5);
  assert.equal(y.shape, [5, 5]);
  assert.is(y.dtype, 'f32');
  const exp = new Float32Array(25);
  idx.forEach((j, i) => (exp[i * 5 + j] = 1));
  assertClose(await y.read(), exp, { rtol: 0, atol: 0 });
  const one = ops.oneHot(tensor(Int32Array.from([0]), [1]), 1);
  assertClose(await one.read(), [1]);
  for (const z of [t, y, one]) z.dispose();
});

test('reshape and flatten share storage and pass gradients through', async () => {
  const r = rng(3);
  const x = r.uniform(24);
  const w = Float64Array.from(Float32Array.from(r.uniform(24)));
  const wt = tensor(Float32Array.from(w), [4, 6]);
  await checkGrad({
    inputs: [x],
    shapes: [[2, 3, 4]],
    engine: (t) => ops.sum(ops.mul(ops.square(ops.reshape(t, [4, -1])), wt)),
    ref: (a) => dot(w, a.map((v) => v * v)),
    what: 'reshape',
  });
  const t = tensor(Float32Array.from(x), [2, 3, 4]);
  const f = ops.flatten(t);
  assert.equal(f.shape, [2, 12]);
  const f0 = ops.flatten(t, 0);
  const r1 = ops.reshape(t, [-1]);
  assert.equal(f0.shape, [24]);
  assert.equal(r1.shape, [24]);
  for (const [v, what] of [[f, 'flatten'], [f0, 'flatten(0)'], [r1, 'reshape [-1]']]) assertClose(await v.read(), Float32Array.from(x), { rtol: 0, atol: 0, what });
  assert.throws(() => ops.reshape(t, [5, -1]), /reshape: cannot reshape \[2, 3, 4\] to \[5, -1\]/);
  assert.throws(() => ops.reshape(t, [5, 5]), /reshape: cannot reshape \[2, 3, 4\] \(24 elements\) to \[5, 5\]/);
  wt.dispose();
  t.dispose();
  f.dispose();
});

test.run();
