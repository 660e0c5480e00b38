// Elementwise unary and binary ops (broadcasting, scalar operands) against float64
// references, and every backward rule by finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib, { tensor, ops, internal } from './helpers/lib.mjs';
import { rng, size, assertClose, checkGrad, refBinary, dot } from './helpers/ref.mjs';

const sigmoid = (x) => 1 / (1 + Math.exp(-x));
// name → [float64 reference, input range]
const UNARY = {
  neg: [(x) => -x, [-2, 2]],
  exp: [Math.exp, [-3, 3]],
  log: [Math.log, [0.2, 4]],
  relu: [(x) => Math.max(x, 0), [-2, 2]],
  relu6: [(x) => Math.min(Math.max(x, 0), 6), [-3, 9]],
  sigmoid: [sigmoid, [-5, 5]],
  tanh: [Math.tanh, [-3, 3]],
  sqrt: [Math.sqrt, [0.2, 4]],
  square: [(x) => x * x, [-2, 2]],
  abs: [Math.abs, [-2, 2]],
};

const SHAPES = [[37], [3, 37], [1], [2, 1, 33], [257]];

for (const [name, [f, [lo, hi]]] of Object.entries(UNARY)) {
  test(`${name}: forward on awkward shapes`, async () => {
    const r = rng(name.length * 7 + 1);
    for (const shape of SHAPES) {
      const x = r.uniform(size(shape), lo, hi);
      const t = tensor(Float32Array.from(x), shape);
      const y = ops[name](t);
      assert.equal(y.shape, shape);
      const xr = Float64Array.from(Float32Array.from(x));
      assertClose(await y.read(), xr.map(f), { rtol: 2e-6, atol: 1e-6, what: `${name} ${JSON.stringify(shape)}` });
      t.dispose();
      y.dispose();
    }
  });

  test(`${name}: backward by finite differences`, async () => {
    const r = rng(name.length * 13 + 5);
    const shape = [3, 11];
    const n = size(shape);
    let x = r.uniform(n, lo, hi);
    // keep away from kinks where finite differences are meaningless
    if (['relu', 'abs', 'relu6'].includes(name)) x = x.map((v) => (Math.abs(v) < 0.05 || Math.abs(v - 6) < 0.05 ? v + 0.1 : v));
    const w = r.uniform(n, -1, 1);
    const wt = tensor(Float32Array.from(w), shape);
    await checkGrad({
      inputs: [x],
      shapes: [shape],
      engine: (a) => ops.sum(ops.mul(ops[name](a), wt)),
      ref: (a) => dot(w.map((v) => Math.fround(v)), a.map(f)),
      eps: 1e-5,
      what: name,
    });
    wt.dispose();
  });
}

test('affine: alpha * x + beta, forward and backward', async () => {
  const r = rng(77);
  const x = r.uniform(45);
  await checkGrad({
    inputs: [x],
    shapes: [[5, 9]],
    engine: (a) => ops.sum(ops.square(ops.affine(a, -1.5, 0.25))),
    ref: (a) => a.reduce((s, v) => s + (-1.5 * v + 0.25) ** 2, 0),
    what: 'affine',
  });
});

const BINARY = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: Math.max,
  minimum: Math.min,
};

// broadcasting edge cases: shapes of a and b
const PAIRS = [
  [[3, 1, 5], [4, 1]],
  [[4, 1], [3, 1, 5]],
  [[2, 33], [2, 33]],
  [[5], [2, 3, 5]],
  [[1], [4, 3]],
  [[4, 3], [1]],
  [[], [2, 3]],
  [[1, 1], [7, 1]],
  [[1, 6, 1], [5, 1, 3]],
  [[1], [1]],
];

for (const [name, f] of Object.entries(BINARY)) {
  test(`${name}: broadcasting forward`, async () => {
    const r = rng(name.length * 31 + 3);
    for (const [as, bs] of PAIRS) {
      const a = r.uniform(size(as), -2, 2);
      // divisors away from zero
      const b = name === 'div' ? r.uniform(size(bs), 0.5, 2).map((v, i) => (i % 2 ? -v : v)) : r.uniform(size(bs), -2, 2);
      const ta = tensor(Float32Array.from(a), as);
      const tb = tensor(Float32Array.from(b), bs);
      const y = ops[name](ta, tb);
      const ref = refBinary(f, Float32Array.from(a), as, Float32Array.from(b), bs);
      assert.equal(y.shape, ref.shape, `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}: shape`);
      assertClose(await y.read(), ref.data, { rtol: 1e-6, atol: 1e-7, what: `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}` });
      ta.dispose();
      tb.dispose();
      y.dispose();
    }
  });

  test(`${name}: broadcasting backward by finite differences`, async () => {
    const r = rng(name.length * 17 + 11);
    for (const [as, bs] of PAIRS.slice(0, 9)) {
      const a = r.uniform(size(as), -2, 2);
      const b = name === 'div' ? r.uniform(size(bs), 0.5, 2).map((v, i) => (i % 2 ? -v : v)) : r.uniform(size(bs), -2, 2);
      const os = refBinary(f, a, as, b, bs).shape;
      const w = Float64Array.from(Float32Array.from(r.uniform(size(os))));
      const wt = tensor(Float32Array.from(w), os);
      await checkGrad({
        inputs: [a, b],
        shapes: [as, bs],
        engine: (ta, tb) => ops.sum(ops.mul(ops[name](ta, tb), wt)),
        ref: (x, y) => dot(w, refBinary(f, x, as, y, bs).data),
        eps: 1e-5,
        what: `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`,
      });
      wt.dispose();
    }
  });
}

test('maximum/minimum: gradient goes to exactly one operand', async () => {
  const a = tensor([1, 5, -2, 3], [4], { requiresGrad: true });
  const b = tensor([2, 4, -3, 9], [4], { requiresGrad: true });
  const s = ops.sum(ops.maximum(a, b));
  s.backward();
  assertClose(await a.grad.read(), [0, 1, 1, 0]);
  assertClose(await b.grad.read(), [1, 0, 0, 1]);
  for (const t of [a, b, s]) t.dispose();
});

test('scalar operands on either side, forward and backward', async () => {
  const r = rng(5);
  const x = r.uniform(21, 0.5, 2);
  const cases = [
    ['add(x, 2.5)', (t) => ops.add(t, 2.5), (v) => v + 2.5],
    ['add(2.5, x)', (t) => ops.add(2.5, t), (v) => 2.5 + v],
    ['sub(x, 1.25)', (t) => ops.sub(t, 1.25), (v) => v - 1.25],
    ['sub(1.25, x)', (t) => ops.sub(1.25, t), (v) => 1.25 - v],
    ['mul(x, -3)', (t) => ops.mul(t, -3), (v) => v * -3],
    ['mul(-3, x)', (t) => ops.mul(-3, t), (v) => -3 * v],
    ['div(x, 4)', (t) => ops.div(t, 4), (v) => v / 4],
    ['div(2, x)', (t) => ops.div(2, t), (v) => 2 / v],
  ];
  const w = Float64Array.from(Float32Array.from(r.uniform(21)));
  const wt = tensor(Float32Array.from(w), [3, 7]);
  for (const [what, eng, f] of cases) {
    await checkGrad({
      inputs: [x],
      shapes: [[3, 7]],
      engine: (t) => ops.sum(ops.mul(eng(t), wt)),
      ref: (a) => dot(w, a.map(f)),
      eps: 1e-5,
      what,
    });
  }
  wt.dispose();
});

test('rank-0 tensors broadcast like [1]', async () => {
  const s = tensor([3], []);
  const t = tensor([1, 2, 3, 4], [2, 2]);
  const y = ops.mul(s, t);
  assert.equal(y.shape, [2, 2]);
  assertClose(await y.read(), [3, 6, 9, 12]);
  for (const z of [s, t, y]) z.dispose();
});

test('sumTo reduces broadcast dimensions', async () => {
  const r = rng(8);
  const g = r.uniform(3 * 4 * 5);
  const t = tensor(Float32Array.from(g), [3, 4, 5]);
  const y = internal.sumTo(t, [4, 1]);
  assert.equal(y.shape, [4, 1]);
  const exp = new Float64Array(4);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) exp[j] += Math.fround(g[(i * 4 + j) * 5 + k]);
  assertClose(await y.read(), exp, { rtol: 1e-5, atol: 1e-5 });
  t.dispose();
  y.dispose();
});

test('fill, copy, assign, accumulate', async () => {
  const a = ops.fill([3, 3], 1.5);
  assertClose(await a.read(), new Array(9).fill(1.5));
  const b = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
  const c = ops.copy(b);
  ops.accumulate(c, a);
  assertClose(await c.read(), [2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5]);
  ops.assign(a, b);
  assertClose(await a.read(), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  ops.fillInPlace(b, -2);
  assertClose(await b.read(), new Array(9).fill(-2));
  assertClose(await c.read(), [2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5], { what: 'copy is independent' });
  for (const t of [a, b, c]) t.dispose();
});

test('more than 65,535 workgroups: the grid folds into (x, y) and covers every element', async () => {
  const n = 65535 * 256 + 513; // 65,538 workgroups of 256
  assert.equal(lib.internal.grid(n, 256), [32769, 2]);
  assert.equal(lib.internal.grid(256, 256), [1, 1]);
  assert.equal(lib.internal.grid(0, 256), [1, 1]);
  const t = ops.fill([n], 2); // fill kernel, folded
  const one = tensor([1], [1]);
  const u = ops.add(t, one); // broadcasting binary kernel, folded
  const v = ops.neg(u); // unary kernel, folded
  const s = ops.sum(v);
  const mx = ops.max(v);
  const nv = ops.neg(v);
  const mn = ops.max(nv);
  assertClose(await s.read(), [-3 * n], { rtol: 1e-6, atol: 0, what: 'sum over every element' });
  assertClose(await mx.read(), [-3], { rtol: 0, atol: 0 });
  assertClose(await mn.read(), [3], { rtol: 0, atol: 0 });
  for (const z of [t, one, u, v, nv, s, mx, mn]) z.dispose();
});

test.run();
