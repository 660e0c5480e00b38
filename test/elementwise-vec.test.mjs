// The vec4 elementwise paths (K vec4s per invocation) against float64 references:
// sizes that are and are not multiples of 4 (the latter run the scalar kernels), tails
// that end mid-workgroup for K = 4 (default) and, on a few ops, K = 1, 2; slices at
// nonzero offsets (views of an SGD arena); the row and channel broadcast kernels (and
// shapes that must fall back); fill (clearBuffer for zeros), accumulate; gradients through
// the broadcast paths; and exact agreement of the scalar and vec4 kernels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, optim, tuning } from './helpers/lib.mjs';
import { rng, size, assertClose, checkGrad, refBinary, dot } from './helpers/ref.mjs';
import { dispatched } from './helpers/dispatches.mjs';

const vt = tuning.vectorTuning;
const sigmoid = (x) => 1 / (1 + Math.exp(-x));
// name → [forward reference, derivative reference in terms of x, input range]
const UNARY = {
  neg: [(x) => -x, () => -1, [-2, 2]],
  exp: [Math.exp, Math.exp, [-3, 3]],
  log: [Math.log, (x) => 1 / x, [0.2, 4]],
  relu: [(x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0), [-2, 2]],
  relu6: [(x) => Math.min(Math.max(x, 0), 6), (x) => (x > 0 && x < 6 ? 1 : 0), [-3, 9]],
  sigmoid: [sigmoid, (x) => sigmoid(x) * (1 - sigmoid(x)), [-5, 5]],
  tanh: [Math.tanh, (x) => 1 - Math.tanh(x) ** 2, [-3, 3]],
  sqrt: [Math.sqrt, (x) => 0.5 / Math.sqrt(x), [0.2, 4]],
  square: [(x) => x * x, (x) => 2 * x, [-2, 2]],
  abs: [Math.abs, (x) => Math.sign(x), [-2, 2]],
};
const BINARY = { add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, maximum: Math.max, minimum: Math.min };
// 2052 = 4 * 513: ends just past one full workgroup of vec4s for K = 2 (512 vec4s)
const SIZES = [4, 12, 2052, 4 * 1031, 7, 2050];
const f32 = (a) => Float64Array.from(Float32Array.from(a));

function withK(k, fn) {
  const prev = { ...vt };
  Object.assign(vt, { vec4: true, k });
  return Promise.resolve(fn()).finally(() => Object.assign(vt, prev));
}

test('unary forward and backward (g * dy/dx) on vec4 and scalar sizes, K = 1, 2, 4', async () => {
  const r = rng(401);
  // every op with the default K = 4; K = 1, 2 (the same loop code) on two ops, to keep
  // pipeline compiles (one per op and K) within the test budget
  for (const k of [4, 1, 2]) {
    await withK(k, async () => {
      for (const [name, [f, df, [lo, hi]]] of Object.entries(UNARY)) {
        if (k !== 4 && !['relu', 'sigmoid'].includes(name)) continue;
        for (const n of k === 4 ? [12, 2052, 4 * 1031, 7] : [4 * 1031]) {
          let x = r.uniform(n, lo, hi);
          if (['relu', 'relu6', 'abs'].includes(name)) x = x.map((v) => (Math.abs(v) < 1e-3 || Math.abs(v - 6) < 1e-3 ? v + 0.01 : v));
          const xs = f32(x);
          const gs = f32(r.uniform(n, -1, 1));
          const tx = tensor(Float32Array.from(xs), [n], { requiresGrad: true });
          const { result: y, kernels } = dispatched(() => ops[name](tx));
          const what = `${name} n=${n} K=${k}`;
          // the vec4 kernel exactly when n % 4 == 0
          assert.equal(kernels, [n % 4 === 0 ? `ew:${name}:v4` : `ew:${name}`], `${what}: kernels`);
          assertClose(await y.read(), xs.map(f), { rtol: 2e-6, atol: 1e-6, what });
          const bwd = dispatched(() => y.backward(tensor(Float32Array.from(gs), [n]))).kernels;
          assert.ok(bwd.includes(n % 4 === 0 ? `ew:${name}:bwd:v4` : `ew:${name}:bwd`), `${what}: backward kernels ${bwd}`);
          assertClose(await tx.grad.read(), xs.map((v, i) => gs[i] * df(v)), { rtol: 1e-5, atol: 1e-6, what: `${what} backward` });
          tx.dispose();
          y.dispose();
        }
      }
    });
  }
});

test('affine, fill, accumulate: vec4 sizes, scalar sizes, tails for K = 1, 2, 4', async () => {
  const r = rng(402);
  for (const k of [4, 1, 2]) {
    await withK(k, async () => {
      for (const n of k === 4 ? SIZES : [2052]) {
        const a = f32(r.uniform(n, -3, 3));
        const b = f32(r.uniform(n, -3, 3));
        const ta = tensor(Float32Array.from(a), [n]);
        const tb = tensor(Float32Array.from(b), [n]);
        const what = `n=${n} K=${k}`;
        const y = ops.affine(ta, -1.5, 0.25);
        assertClose(await y.read(), a.map((v) => -1.5 * v + 0.25), { rtol: 1e-6, atol: 1e-6, what: `affine ${what}` });
        ops.accumulate(ta, tb);
        assertClose(await ta.read(), a.map((v, i) => v + b[i]), { rtol: 1e-6, atol: 1e-6, what: `accumulate ${what}` });
        ops.fillInPlace(ta, -0.375);
        const got = await ta.read();
        assert.ok(got.every((v) => v === -0.375), `fill ${what}`);
        ops.fillInPlace(ta, 0);
        assert.ok((await ta.read()).every((v) => Object.is(v, 0)), `zero fill ${what}`);
        ops.fillInPlace(ta, -0);
        assert.ok((await ta.read()).every((v) => Object.is(v, -0)), `negative-zero fill ${what}`);
        const fl = ops.fill([n], 2.5);
        assert.ok((await fl.read()).every((v) => v === 2.5), `fill new ${what}`);
        for (const t of [ta, tb, y, fl]) t.dispose();
      }
    });
  }
});

// [a shape, b shape, path the vec4 dispatch should take]
const BCAST = [
  // more than 256 vec4s: each lane steps its broadcast index from one vec4 to the next
  [[4, 6, 20, 12], [1, 6, 1, 1], 'channel b, inner 240, stepping'],
  [[12], [3, 50, 12], 'row a of 12, stepping'],
  [[3, 7, 9, 12], [1, 7, 1, 1], 'channel b, inner 108 (1024 % inner != 0)'],
  [[5, 8], [8], 'row b'],
  [[8], [3, 8], 'row a'],
  [[2, 3, 4, 4], [1, 3, 1, 1], 'channel b'],
  [[3, 1, 1], [2, 3, 2, 2], 'channel a (inner 4)'],
  [[6, 4], [1], 'single element b'],
  [[1, 1], [2, 6], 'single element a'],
  [[2, 3, 8], [3, 8], 'row run of two dims'],
  [[2, 3, 4, 4], [3, 4, 1], 'channel run of two dims (inner 4)'],
  [[5, 6], [6], 'fallback: row of 6'],
  [[2, 3, 3, 4], [1, 3, 1, 1], 'channel: inner 12'],
  [[2, 3, 3, 3], [1, 3, 1, 1], 'fallback: inner 9'],
  [[4, 3, 4], [4, 1, 4], 'fallback: gap'],
  [[2, 4], [2, 1], 'fallback: column'],
  [[4, 1], [1, 8], 'fallback: both broadcast'],
];

for (const [name, f] of Object.entries(BINARY)) {
  test(`${name}: row / channel broadcast vec4 paths and fallbacks`, async () => {
    const r = rng(name.length * 41 + 7);
    for (const k of name === 'add' ? [4, 1] : [4]) {
      await withK(k, async () => {
        for (const [as, bs, path] of k === 1 ? BCAST.slice(0, 7) : BCAST) {
          const a = f32(r.uniform(size(as), -2, 2));
          const b = f32(name === 'div' ? r.uniform(size(bs), 0.5, 2).map((v, i) => (i % 2 ? -v : v)) : r.uniform(size(bs), -2, 2));
          const ta = tensor(Float32Array.from(a), as);
          const tb = tensor(Float32Array.from(b), bs);
          const y = ops[name](ta, tb);
          const ref = refBinary(f, a, as, b, bs);
          assert.equal(y.shape, ref.shape);
          assertClose(await y.read(), ref.data, { rtol: 1e-6, atol: 1e-7, what: `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)} (${path}) K=${k}` });
          for (const t of [ta, tb, y]) t.dispose();
        }
      });
    }
  });
}

test('gradients through broadcast vec4 paths (add, mul, maximum, div)', async () => {
  const r = rng(403);
  const cases = [[[5, 8], [8]], [[2, 3, 4, 4], [1, 3, 1, 1]], [[1], [3, 4]]];
  for (const name of ['add', 'mul', 'maximum', 'div']) {
    for (const [as, bs] of cases) {
      // the forward takes the broadcast vec4 kernel (b broadcast: bcb; a broadcast: bca), and the
      // operand gradients that read the broadcast operand take the broadcast gradient kernels
      const fa = tensor(new Float32Array(size(as)).fill(1), as, { requiresGrad: true });
      const fb = tensor(new Float32Array(size(bs)).fill(2), bs, { requiresGrad: true });
      const fwd = dispatched(() => ops[name](fa, fb));
      const bc = size(as) < size(bs) ? 'bca' : 'bcb';
      assert.equal(fwd.kernels, [`ew:${name}:${bc}:v4`], `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}: forward kernel`);
      const bwd = dispatched(() => ops.sum(fwd.result).backward()).kernels.filter((k) => k.startsWith(`ew:${name}:d`));
      const want = { add: [], mul: bc === 'bcb' ? ['ew:mul:da:bcy', 'ew:mul:db:flat'] : ['ew:mul:da:flat', 'ew:mul:db:bcx'], maximum: ['ew:maximum:da:bc', 'ew:maximum:db:bc'], div: bc === 'bcb' ? ['ew:div:da:bcy', 'ew:div:db:bcy'] : ['ew:div:da:flat', 'ew:div:db:flat'] }[name];
      // maximum's gradients read both operands: one of them broadcast, the vec4 broadcast form
      if (name === 'maximum') assert.equal(bwd.map((k) => k.replace(/:bc[xy]$/, ':bc')), want, `${name}: gradient kernels ${bwd}`);
      else assert.equal(bwd, want, `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}: gradient kernels`);
      for (const t of [fa, fb, fwd.result]) t.dispose();

      const a = r.uniform(size(as), -2, 2);
      const b = name === 'div' ? r.uniform(size(bs), 0.5, 2).map((v, i) => (i % 2 ? -v : v)) : r.uniform(size(bs), -2, 2);
      const os = refBinary(BINARY[name], a, as, b, bs).shape;
      const w = f32(r.uniform(size(os)));
      const wt = tensor(Float32Array.from(w), os);
      await checkGrad({
        inputs: [a, b],
        shapes: [as, bs],
        engine: (ta, tb) => ops.sum(ops.mul(ops[name](ta, tb), wt)),
        ref: (x, y) => dot(w, refBinary(BINARY[name], x, as, y, bs).data),
        eps: 1e-5,
        what: `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`,
      });
      wt.dispose();
    }
  }
});

test('vec4 kernels on slices at nonzero offsets (SGD arena views)', async () => {
  const r = rng(404);
  const shapes = [[3], [4, 5], [8], [2, 4, 2, 2]];
  const inits = shapes.map((s) => f32(r.uniform(size(s), -2, 2)));
  const ps = inits.map((v, i) => tensor(Float32Array.from(v), shapes[i], { requiresGrad: true }));
  const opt = new optim.SGD(ps, { lr: 0.1 });
  const [, p20, p8, p32] = ps;
  const [, v20, v8, v32] = inits;
  const y = ops.relu(p20);
  assertClose(await y.read(), v20.map((v) => Math.max(v, 0)), { what: 'relu of an arena view' });
  const s = ops.add(p32, p8.detachedView([4, 1, 1]));
  assertClose(await s.read(), refBinary((a, b) => a + b, v32, [2, 4, 2, 2], v8, [4, 1, 1]).data, { what: 'channel-broadcast add of arena views' });
  const c = ops.mul(p8, p32.detachedView([4, 8]));
  assertClose(await c.read(), refBinary((a, b) => a * b, v8, [8], v32, [4, 8]).data, { what: 'row-broadcast mul of arena views' });
  const m = ops.mul(p8, p8);
  ops.accumulate(p20.grad, ops.fill([20], 1.5));
  assertClose(await p20.grad.read(), new Float64Array(20).fill(1.5), { what: 'accumulate into a gradient view' });
  assertClose(await m.read(), v8.map((v) => v * v), { what: 'square of an arena view' });
  // a zero fill (clearBuffer) of one slot leaves its neighbours alone
  ops.fillInPlace(p8, 0);
  assertClose(await p8.read(), new Float64Array(8), { what: 'zero fill of an arena view' });
  assertClose(await p20.read(), v20, { what: 'slot before the cleared one' });
  assertClose(await p32.read(), v32, { what: 'slot after the cleared one' });
  opt.dispose();
});

test('scalar and vec4 kernels agree exactly (K = 1, 2, 4)', async () => {
  const r = rng(405);
  const a = Float32Array.from(r.uniform(4 * 700, -3, 3));
  const b = Float32Array.from(r.uniform(4 * 700, 0.5, 3));
  const row = Float32Array.from(r.uniform(28, -1, 1));
  const run = async () => {
    const ta = tensor(a, [100, 28]);
    const tb = tensor(b, [100, 28]);
    const tr = tensor(row, [28]);
    const outs = [ops.sigmoid(ta), ops.div(ta, tb), ops.sub(tr, ta)];
    const res = [];
    for (const o of outs) res.push(await o.read());
    for (const t of [ta, tb, tr, ...outs]) t.dispose();
    return res;
  };
  const prev = { ...vt };
  vt.vec4 = false;
  const scalar = await dispatched(run);
  const base = scalar.result;
  assert.ok(scalar.kernels.every((k) => !k.endsWith(':v4')), `vec4 off: scalar kernels only (${scalar.kernels})`);
  for (const k of [1, 2, 4]) {
    Object.assign(vt, { vec4: true, k });
    const { result: got, kernels } = await dispatched(run);
    assert.equal(kernels, ['ew:sigmoid:v4', 'ew:div:v4', 'ew:sub:bca:v4'], `K=${k}: the vec4 kernels ran`);
    got.forEach((g, i) => assert.equal(Array.from(g), Array.from(base[i]), `output ${i} K=${k}`));
  }
  Object.assign(vt, prev);
});

test.run();
