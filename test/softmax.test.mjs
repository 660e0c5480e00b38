// Softmax and log-softmax over the last axis: float64 reference, stability for logits of ±80,
// gradients by finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops } from './helpers/lib.mjs';
import { rng, assertClose, checkGrad, refSoftmax, dot } from './helpers/ref.mjs';

const f32 = (a) => Float64Array.from(Float32Array.from(a));

for (const log of [false, true]) {
  const name = log ? 'logSoftmax' : 'softmax';

  test(`${name}: forward on awkward shapes`, async () => {
    const r = rng(log ? 2 : 1);
    for (const shape of [[7, 13], [1, 1], [1, 300], [65, 3], [2, 3, 5], [10]]) {
      const n = shape[shape.length - 1];
      const rows = shape.reduce((a, b) => a * b, 1) / n;
      const x = f32(r.uniform(rows * n, -4, 4));
      const t = tensor(Float32Array.from(x), shape);
      const y = ops[name](t);
      assert.equal(y.shape, shape);
      assertClose(await y.read(), refSoftmax(x, rows, n, log), { rtol: 1e-5, atol: 1e-6, what: `${name} ${JSON.stringify(shape)}` });
      const y2 = ops[name](t, shape.length - 1); // the last axis named explicitly
      assertClose(await y2.read(), refSoftmax(x, rows, n, log), { rtol: 1e-5, atol: 1e-6, what: `${name} explicit axis` });
      for (const z of [t, y, y2]) z.dispose();
    }
  });

  test(`${name}: stable for logits of ±80`, async () => {
    const r = rng(log ? 4 : 3);
    const rows = 9;
    const n = 17;
    const x = f32(r.uniform(rows * n, -80, 80));
    // rows made only of huge values, and a row with every entry equal to +80
    for (let j = 0; j < n; j++) {
      x[j] = j % 2 ? 80 : -80;
      x[n + j] = 80;
      x[2 * n + j] = -80;
    }
    const t = tensor(Float32Array.from(x), [rows, n]);
    const y = await ops[name](t).read();
    for (const v of y) assert.ok(Number.isFinite(v), `${name}: non-finite value ${v}`);
    assertClose(y, refSoftmax(x, rows, n, log), { rtol: 1e-5, atol: log ? 1e-4 : 1e-7, what: `${name} ±80` });
    if (!log) {
      for (let rr = 0; rr < rows; rr++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += y[rr * n + j];
        assert.ok(Math.abs(s - 1) < 1e-5, `row ${rr} sums to ${s}`);
      }
    }
    t.dispose();
  });

  test(`${name}: backward by finite differences`, async () => {
    const r = rng(log ? 6 : 5);
    for (const [rows, n] of [[4, 7], [1, 33], [3, 1]]) {
      const w = f32(r.uniform(rows * n));
      const wt = tensor(Float32Array.from(w), [rows, n]);
      await checkGrad({
        inputs: [r.uniform(rows * n, -3, 3)],
        shapes: [[rows, n]],
        engine: (x) => ops.sum(ops.mul(ops[name](x), wt)),
        ref: (x) => dot(w, refSoftmax(x, rows, n, log)),
        eps: 1e-5,
        what: `${name} [${rows}, ${n}]`,
      });
      wt.dispose();
    }
  });

  test(`${name}: gradient stays finite and correct at ±80`, async () => {
    const r = rng(log ? 8 : 7);
    const [rows, n] = [3, 6];
    const w = f32(r.uniform(rows * n));
    const wt = tensor(Float32Array.from(w), [rows, n]);
    await checkGrad({
      inputs: [r.uniform(rows * n, -80, 80)],
      shapes: [[rows, n]],
      engine: (x) => ops.sum(ops.mul(ops[name](x), wt)),
      ref: (x) => dot(w, refSoftmax(x, rows, n, log)),
      eps: 1e-4,
      fwdRtol: 1e-4,
      fwdAtol: 1e-3,
      rtol: 1e-3,
      atol: 1e-3,
      what: `${name} ±80`,
    });
    wt.dispose();
  });
}

test('softmax: only the last axis is supported, and says so', () => {
  const t = tensor(new Float32Array(6).fill(1), [2, 3]);
  assert.throws(() => ops.softmax(t, 0), /softmax: only the last axis is supported, got axis 0 for \[2, 3\]/);
  assert.throws(() => ops.logSoftmax(t, 2), /logSoftmax: axis 2 is out of range/);
  t.dispose();
});

test.run();
