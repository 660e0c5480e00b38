// Matmul in both variants ('rb' register-blocked, 'tiled' workgroup-tiled): every transpose
// form, batched 3-D with a broadcast operand, the fused bias + ReLU epilogue, awkward sizes
// (not multiples of the 32/64 tiles); matmul and linear gradients by finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, tuning, internal } from './helpers/lib.mjs';
import { rng, assertClose, checkGrad, refMatmul, refBmm, dot } from './helpers/ref.mjs';

const f32 = (a) => Float64Array.from(Float32Array.from(a));
const SIZES = [[1, 1, 1], [33, 65, 17], [1, 300, 7], [64, 32, 64], [70, 3, 129], [5, 1, 9]]; // m, k, n
const tol = (k) => ({ rtol: 1e-5, atol: 2e-6 * Math.sqrt(k) + 1e-6 });

for (const variant of tuning.MATMUL_VARIANTS) {
  test(`matmulRaw (${variant}): every transpose form on awkward sizes`, async () => {
    const r = rng(variant.length + 1);
    for (const [m, k, n] of SIZES) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = f32(r.uniform(m * k));
          const b = f32(r.uniform(k * n));
          const ta = tensor(Float32Array.from(a), transA ? [k, m] : [m, k]);
          const tb = tensor(Float32Array.from(b), transB ? [n, k] : [k, n]);
          const c = internal.matmulRaw(ta, tb, { transA, transB, variant });
          assert.equal(c.shape, [m, n]);
          assertClose(await c.read(), refMatmul(a, b, m, k, n, { transA, transB }), { ...tol(k), what: `${variant} ${m}x${k}x${n} tA=${transA} tB=${transB}` });
          for (const t of [ta, tb, c]) t.dispose();
        }
      }
    }
  });

  test(`matmulRaw (${variant}): batched 3-D, a broadcast 2-D operand, batch of 1`, async () => {
    const r = rng(variant.length + 2);
    const [m, k, n] = [17, 33, 9];
    for (const [ba, bb, aRank, bRank] of [[3, 3, 3, 3], [3, 1, 3, 2], [1, 4, 2, 3], [1, 4, 3, 3], [2, 1, 3, 3], [1, 1, 3, 3]]) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
        const a = f32(r.uniform(ba * m * k));
        const b = f32(r.uniform(bb * k * n));
        const as = transA ? [k, m] : [m, k];
        const bs = transB ? [n, k] : [k, n];
        const ta = tensor(Float32Array.from(a), aRank === 3 ? [ba, ...as] : as);
        const tb = tensor(Float32Array.from(b), bRank === 3 ? [bb, ...bs] : bs);
        const c = internal.matmulRaw(ta, tb, { transA, transB, variant });
        assert.equal(c.shape, [Math.max(ba, bb), m, n]);
        assertClose(await c.read(), refBmm(a, ba, b, bb, m, k, n, { transA, transB }), { ...tol(k), what: `${variant} batch ${ba}/${bb} tA=${transA} tB=${transB}` });
        for (const t of [ta, tb, c]) t.dispose();
      }
    }
  });

  test(`matmulRaw (${variant}): fused bias and ReLU epilogue`, async () => {
    const r = rng(variant.length + 3);
    for (const [m, k, n] of [[33, 65, 17], [1, 7, 1], [66, 5, 70]]) {
      const a = f32(r.uniform(m * k));
      const b = f32(r.uniform(n * k));
      const bias = f32(r.uniform(n));
      const ta = tensor(Float32Array.from(a), [m, k]);
      const tb = tensor(Float32Array.from(b), [n, k]);
      const tbias = tensor(Float32Array.from(bias), [n]);
      const base = refMatmul(a, b, m, k, n, { transB: true });
      const withBias = base.map((v, i) => v + bias[i % n]);
      // (each epilogue is a separate pipeline; tiled ones take seconds to compile on lavapipe)
      for (const relu of variant === 'rb' ? [false, true] : [true]) {
        const c = internal.matmulRaw(ta, tb, { transB: true, bias: tbias, relu, variant });
        assertClose(await c.read(), relu ? withBias.map((v) => Math.max(v, 0)) : withBias, { ...tol(k), what: `${variant} bias relu=${relu}` });
        c.dispose();
      }
      if (variant === 'rb') {
        const c = internal.matmulRaw(ta, tb, { transB: true, relu: true, variant });
        assertClose(await c.read(), base.map((v) => Math.max(v, 0)), { ...tol(k), what: `${variant} relu without bias` });
        c.dispose();
      }
      for (const t of [ta, tb, tbias]) t.dispose();
    }
  });

  test(`matmul (${variant}): gradients by finite differences, 2-D and batched with broadcasting`, async () => {
    tuning.setMatmulVariant(variant);
    try {
      const r = rng(variant.length + 4);
      const [m, k, n] = [5, 7, 3];
      for (const [as, bs] of [[[m, k], [k, n]], [[2, m, k], [k, n]], [[m, k], [3, k, n]], [[2, m, k], [2, k, n]], [[1, m, k], [3, k, n]], [[3, m, k], [1, k, n]]]) {
        const ba = as.length === 3 ? as[0] : 1;
        const bb = bs.length === 3 ? bs[0] : 1;
        const batch = Math.max(ba, bb);
        const outN = batch * m * n;
        const w = f32(r.uniform(outN));
        const wt = tensor(Float32Array.from(w), as.length === 3 || bs.length === 3 ? [batch, m, n] : [m, n]);
        await checkGrad({
          inputs: [r.uniform(ba * m * k), r.uniform(bb * k * n)],
          shapes: [as, bs],
          engine: (a, b) => ops.sum(ops.mul(ops.matmul(a, b), wt)),
          ref: (a, b) => dot(w, refBmm(a, ba, b, bb, m, k, n)),
          eps: 1e-5,
          what: `${variant} matmul ${JSON.stringify(as)}·${JSON.stringify(bs)}`,
        });
        wt.dispose();
      }
    } finally {
      tuning.setMatmulVariant(null);
    }
  });

  test(`linear (${variant}): x·wᵀ + b with and without ReLU, gradients by finite differences`, async () => {
    tuning.setMatmulVariant(variant);
    try {
      const r = rng(variant.length + 5);
      const [bsz, fin, fout] = [6, 9, 4];
      const w = f32(r.uniform(bsz * fout));
      const wt = tensor(Float32Array.from(w), [bsz, fout]);
      const refLinear = (x, wgt, b, relu) => {
        const y = refMatmul(x, wgt, bsz, fin, fout, { transB: true });
        for (let i = 0; i < y.length; i++) {
          if (b) y[i] += b[i % fout];
          if (relu) y[i] = Math.max(y[i], 0);
        }
        return y;
      };
      for (const relu of variant === 'rb' ? [false, true] : [true]) {
        await checkGrad({
          inputs: [r.uniform(bsz * fin), r.uniform(fout * fin), r.uniform(fout)],
          shapes: [[bsz, fin], [fout, fin], [fout]],
          engine: (x, wgt, b) => ops.sum(ops.mul(ops.linear(x, wgt, b, { relu }), wt)),
          ref: (x, wgt, b) => dot(w, refLinear(x, wgt, b, relu)),
          eps: 1e-5,
          what: `${variant} linear relu=${relu}`,
        });
      }
      await checkGrad({
        inputs: [r.uniform(bsz * fin), r.uniform(fout * fin)],
        shapes: [[bsz, fin], [fout, fin]],
        engine: (x, wgt) => ops.sum(ops.mul(ops.linear(x, wgt), wt)),
        ref: (x, wgt) => dot(w, refLinear(x, wgt, null, false)),
        eps: 1e-5,
        what: `${variant} linear without bias`,
      });
      wt.dispose();
    } finally {
      tuning.setMatmulVariant(null);
    }
  });
}

test('matmulVariant: forced and per-adapter choice', () => {
  const auto = tuning.matmulVariant();
  assert.ok(tuning.MATMUL_VARIANTS.includes(auto));
  tuning.setMatmulVariant('tiled');
  assert.is(tuning.matmulVariant(), 'tiled');
  tuning.setMatmulVariant(null);
  assert.is(tuning.matmulVariant(), auto);
});

test.run();
