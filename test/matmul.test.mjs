// Matmul in every available variant ('rb' register-blocked, 'sg' subgroup broadcast where the
// device has subgroups, 'tiled' workgroup-tiled): every transpose form, batched 3-D with a
// broadcast operand, the fused bias + activation epilogue (none, relu, relu6), awkward sizes
// (not multiples of the 32/64 tiles); matmul and linear gradients by finite differences, relu6
// included. Each test named after a variant checks (gpu().onDispatch labels) that the
// variant's kernels ran and no other variant's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, tuning, internal, gpu } from './helpers/lib.mjs';
import { rng, assertClose, checkGrad, refMatmul, refBmm, dot } from './helpers/ref.mjs';
import { dispatched } from './helpers/dispatches.mjs';

const labelsOf = async (fn) => (await dispatched(fn)).labels;

const f32 = (a) => Float64Array.from(Float32Array.from(a));
const SIZES = [[1, 1, 1], [33, 65, 17], [1, 300, 7], [64, 32, 64], [70, 3, 129], [5, 1, 9]]; // m, k, n
const tol = (k) => ({ rtol: 1e-5, atol: 2e-6 * Math.sqrt(k) + 1e-6 });
const ACT = { none: (v) => v, relu: (v) => Math.max(v, 0), relu6: (v) => Math.min(Math.max(v, 0), 6) };

/** The dispatch labels of each variant's product kernels (besides sg's 'matmul(transpose)'). */
const KERNELS = { rb: ['matmul(rb)', 'matmul(rb4)'], sg: ['matmul(sg)'], tiled: ['matmul(tiled)'] };

/** Run fn and return the labels of the dispatches it issued. */

/** The product kernels in `labels` are all `variant`'s, and there is at least one. */
function assertRan(labels, variant, what) {
  const products = labels.filter((l) => l.startsWith('matmul(') && l !== 'matmul(transpose)');
  assert.ok(products.length > 0, `${what}: no matmul kernel ran (${labels.join(', ')})`);
  const other = [...new Set(products.filter((l) => !KERNELS[variant].includes(l)))];
  assert.equal(other, [], `${what}: ${variant} was asked for, ${other.join(', ')} ran`);
}

for (const variant of tuning.availableMatmulVariants()) {
  test(`matmulRaw (${variant}): every transpose form on awkward sizes`, async () => {
    const r = rng(variant.length + 1);
    const labels = await labelsOf(async () => {
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
    assertRan(labels, variant, variant);
    // 64×32·32×64 is vec4-aligned in every form, the other sizes in none
    if (variant === 'rb') assert.ok(labels.includes('matmul(rb4)') && labels.includes('matmul(rb)'), `rb ran both forms: ${[...new Set(labels)]}`);
    if (variant === 'sg') assert.ok(labels.includes('matmul(transpose)'), 'sg transposed the layouts it does not read');
  });

  test(`matmulRaw (${variant}): batched 3-D, a broadcast 2-D operand, batch of 1`, async () => {
    const r = rng(variant.length + 2);
    const [m, k, n] = [17, 33, 9];
    const labels = await labelsOf(async () => {
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
    assertRan(labels, variant, `${variant} batched`);
  });

  test(`matmulRaw (${variant}): fused bias and activation epilogue (none, relu, relu6)`, async () => {
    const r = rng(variant.length + 3);
    const labels = await labelsOf(async () => {
      for (const [m, k, n] of [[33, 65, 17], [1, 7, 1], [66, 5, 70]]) {
        // A scaled by 4: the products spread over both of relu6's clamps
        const a = f32(r.uniform(m * k, -4, 4));
        const b = f32(r.uniform(n * k));
        const bias = f32(r.uniform(n, 0, 3));
        const ta = tensor(Float32Array.from(a), [m, k]);
        const tb = tensor(Float32Array.from(b), [n, k]);
        const tbias = tensor(Float32Array.from(bias), [n]);
        const base = refMatmul(a, b, m, k, n, { transB: true });
        const withBias = base.map((v, i) => v + bias[i % n]);
        if (m * n > 100) assert.ok(withBias.some((v) => v < 0) && withBias.some((v) => v > 6), `${variant} ${m}x${k}x${n}: outputs on both sides of relu6's clamps`);
        // one pipeline serves every epilogue (uniforms), so every variant takes every form
        for (const act of ['none', 'relu', 'relu6']) {
          for (const [useBias, pre] of [[true, withBias], [false, base]]) {
            const c = internal.matmulRaw(ta, tb, { transB: true, bias: useBias ? tbias : null, act, variant });
            assertClose(await c.read(), pre.map(ACT[act]), { ...tol(k), what: `${variant} ${m}x${k}x${n} bias=${useBias} act=${act}` });
            c.dispose();
          }
        }
        for (const t of [ta, tb, tbias]) t.dispose();
      }
    });
    assertRan(labels, variant, `${variant} epilogue`);
  });

  test(`matmul (${variant}): gradients by finite differences, 2-D and batched with broadcasting`, async () => {
    tuning.setMatmulVariant(variant);
    try {
      const r = rng(variant.length + 4);
      const [m, k, n] = [5, 7, 3];
      const labels = await labelsOf(async () => {
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
      });
      assertRan(labels, variant, `${variant} matmul forward and backward`);
    } finally {
      tuning.setMatmulVariant(null);
    }
  });

  test(`linear (${variant}): x·wᵀ + b with act none, relu, relu6, gradients by finite differences`, async () => {
    tuning.setMatmulVariant(variant);
    try {
      const r = rng(variant.length + 5);
      const [bsz, fin, fout] = [6, 9, 4];
      const w = f32(r.uniform(bsz * fout));
      const wt = tensor(Float32Array.from(w), [bsz, fout]);
      const refLinear = (x, wgt, b, act) => {
        const y = refMatmul(x, wgt, bsz, fin, fout, { transB: true });
        for (let i = 0; i < y.length; i++) y[i] = ACT[act](y[i] + (b ? b[i % fout] : 0));
        return y;
      };
      const labels = await labelsOf(async () => {
        for (const act of ['none', 'relu', 'relu6']) {
          // x in [-3, 3) and the bias in [2, 4): outputs around 3 ± 3, on both sides of relu6's clamps
          const inputs = [r.uniform(bsz * fin, -3, 3), r.uniform(fout * fin), r.uniform(fout, 2, 4)];
          const pre = refLinear(...inputs.map(f32), 'none');
          assert.ok(pre.some((v) => v < 0) && pre.some((v) => v > 0 && v < 6) && pre.some((v) => v > 6), `${variant} linear act=${act}: outputs in every piece of relu6`);
          await checkGrad({
            inputs,
            shapes: [[bsz, fin], [fout, fin], [fout]],
            engine: (x, wgt, b) => ops.sum(ops.mul(ops.linear(x, wgt, b, { act }), wt)),
            ref: (x, wgt, b) => dot(w, refLinear(x, wgt, b, act)),
            eps: 1e-5,
            what: `${variant} linear act=${act}`,
          });
        }
        await checkGrad({
          inputs: [r.uniform(bsz * fin), r.uniform(fout * fin)],
          shapes: [[bsz, fin], [fout, fin]],
          engine: (x, wgt) => ops.sum(ops.mul(ops.linear(x, wgt, null, { act: 'relu6' }), wt)),
          ref: (x, wgt) => dot(w, refLinear(x, wgt, null, 'relu6')),
          eps: 1e-5,
          what: `${variant} linear relu6 without bias`,
        });
        await checkGrad({
          inputs: [r.uniform(bsz * fin), r.uniform(fout * fin)],
          shapes: [[bsz, fin], [fout, fin]],
          engine: (x, wgt) => ops.sum(ops.mul(ops.linear(x, wgt), wt)),
          ref: (x, wgt) => dot(w, refLinear(x, wgt, null, 'none')),
          eps: 1e-5,
          what: `${variant} linear without bias`,
        });
      });
      assertRan(labels, variant, `${variant} linear forward and backward`);
      wt.dispose();
    } finally {
      tuning.setMatmulVariant(null);
    }
  });
}

test('linear and matmulRaw: act is validated; unknown options (the former relu flag) are refused', async () => {
  const r = rng(9);
  const x = tensor(Float32Array.from(r.uniform(5 * 6)), [5, 6]);
  const w = tensor(Float32Array.from(r.uniform(3 * 6)), [3, 6]);
  const b = tensor(Float32Array.from(r.uniform(3)), [3]);
  assert.throws(() => ops.linear(x, w, b, { act: 'gelu' }), /linear: unknown activation 'gelu'/);
  assert.throws(() => internal.matmulRaw(x, w, { transB: true, act: 'Relu' }), /matmul: unknown activation 'Relu'/);
  assert.throws(() => ops.linear(x, w, b, { relu: true }), /linear: unknown option 'relu' \(use act: 'relu'\); options: act/);
  const viaAct = await ops.linear(x, w, b, { act: 'relu' }).read();
  assert.ok(viaAct.some((v) => v === 0) && viaAct.some((v) => v > 0), 'relu clamps some outputs and keeps others');
  assert.equal([...await internal.matmulRaw(x, w, { transB: true, bias: b, act: 'relu' }).read()], [...viaAct]);
  assert.equal([...await ops.linear(x, w, b, { act: 'none' }).read()], [...await ops.linear(x, w, b).read()]);
  for (const t of [x, w, b]) t.dispose();
});

test('matmulVariant: forced and per-adapter choice', () => {
  const auto = tuning.matmulVariant();
  assert.ok(tuning.MATMUL_VARIANTS.includes(auto));
  tuning.setMatmulVariant('tiled');
  assert.is(tuning.matmulVariant(), 'tiled');
  tuning.setMatmulVariant(null);
  assert.is(tuning.matmulVariant(), auto);
});

test.run();
