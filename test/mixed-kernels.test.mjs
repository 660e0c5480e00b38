// The f16 kernel paths of mixed precision (issue 15 item 2), against the float64 reference.
// Tolerances per precision:
//  - inputs that f16 holds exactly (halfExact): an f16 kernel multiplies exact f16 values in f32
//    (a product of two 11-bit significands is exact in f32) and accumulates in f32, so it must
//    agree with the float64 reference as closely as the f32 kernels do: the f32 tests'
//    tolerances, unchanged. A kernel that dropped bits, read the wrong half of a word, or
//    accumulated in f16 fails them (f16 accumulation is off by ~1e-3 relative).
//  - arbitrary f32 inputs under autocast (rounded to f16 by the cast): test/amp.test.mjs, with
//    the bound 2^-9 · Σ|a||b| per output (assertMixedClose).
// Every test checks through the dispatch labels that the f16 instantiation of each kernel ran
// (',f16' / '(f16)' in the label) and no f32 GEMM kernel did. Also: the cast kernel against an
// independent binary16 rounding (ties to even, subnormals, the overflow boundary, NaN), f16
// tensors (creation, read, odd sizes), and the dtype errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib, { tensor, ops, scope, gpu, tuning, internal } from './helpers/lib.mjs';
import { rng, size, assertClose } from './helpers/ref.mjs';
import { conv2dRef, conv2dGradRef, actOf, actMask } from './helpers/conv-ref.mjs';
import { withTuning, labelsOf } from './helpers/conv-compare.mjs';
import { f16round, halfExact, roundAll } from './helpers/half-ref.mjs';

const { amp } = lib;

/** Kernels that read GEMM operands: each must be its f16 instantiation in a mixed run. */
const OPERAND_READERS = ['conv2d_forward', 'conv2d_input_grad', 'conv2d_weight_grad', 'conv2d_dw_', 'conv2d_im2col', 'conv2d_flip_weight', 'conv2d_tiled', 'matmul('];
function assertAllHalf(labels, what) {
  const readers = labels.filter((l) => OPERAND_READERS.some((p) => l.startsWith(p)));
  assert.ok(readers.length > 0, `${what}: no GEMM kernel ran (${labels.join(', ')})`);
  const f32 = readers.filter((l) => !/f16/.test(l));
  assert.equal(f32, [], `${what}: f32 GEMM kernels ran in a mixed-precision run: ${f32.join(', ')}`);
}

test('cast f32 → f16: round to nearest even, subnormals, overflow to ±Infinity, NaN; f16 → f32 exact', async () => {
  const r = rng(3);
  const special = [0, -0, 1, -1, 65504, 65505, 65519.99, 65520, -65520, 1e6, -1e30, Infinity, -Infinity, NaN,
    2 ** -14, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 2 ** -26, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2049, 2051, 0.1, -3.14159];
  const values = Float32Array.from([...special, ...r.uniform(1000, -70000, 70000), ...r.randn(1000, 1e-3), ...r.randn(501, 1e-6)]);
  const x = tensor(values, [values.length]);
  const h = internal.castRaw(x, 'f16');
  assert.is(h.dtype, 'f16');
  const got = await h.read();
  const want = Float64Array.from(values, f16round);
  for (let i = 0; i < values.length; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Object.is(got[i], want[i]) || (got[i] === want[i] && want[i] !== 0);
    if (!ok) assert.unreachable(`element ${i}: f16(${values[i]}) = ${got[i]}, expected ${want[i]}`);
  }
  // back to f32 through the kernel: exactly the f16 values
  const b32 = internal.castRaw(h, 'f32');
  const back = await b32.read();
  b32.dispose();
  for (let i = 0; i < values.length; i++) {
    if (!(Number.isNaN(want[i]) ? Number.isNaN(back[i]) : back[i] === want[i])) assert.unreachable(`f32(f16) element ${i}: ${back[i]} vs ${want[i]}`);
  }
  for (const t of [x, h]) t.dispose();
});

test('f16 tensors: created from values (rounded on the host), read() as f32, odd sizes, reshape; errors name the dtype', async () => {
  for (const n of [1, 2, 3, 5, 1001]) {
    const v = Float32Array.from(rng(n).uniform(n, -100, 100));
    const t = tensor(v, [n], { dtype: 'f16' });
    assert.is(t.dtype, 'f16');
    assert.equal(Array.from(await t.read()), Array.from(v, f16round), `n = ${n}`);
    const t32 = internal.castRaw(t, 'f32');
    const f = await t32.read();
    t32.dispose();
    assert.equal(Array.from(f), Array.from(v, f16round), `n = ${n} through the kernel`);
    t.dispose();
  }
  const z = lib.full([3], 0.1, { dtype: 'f16' });
  assert.equal(Array.from(await z.read()), [f16round(0.1), f16round(0.1), f16round(0.1)]);
  const v = z.view([1, 3]);
  assert.is(v.dtype, 'f16');
  assert.throws(() => tensor([1], [1], { dtype: 'f16', requiresGrad: true }), /requiresGrad needs dtype 'f32'/);
  assert.throws(() => ops.relu(z), /relu: argument 'x' must have dtype f32, got f16/);
  // (inside scope(): what the throwing calls created is disposed, not left to the garbage collector)
  assert.throws(() => scope(() => ops.matmul(tensor([1, 2], [1, 2]), tensor([1, 2], [2, 1], { dtype: 'f16' }))), /matmul: expects f32 operands, got a f32 \[1, 2\] and b f16 \[2, 1\] \(or f16 operands, both of them\)/);
  assert.throws(() => scope(() => ops.conv2d(tensor([1, 2, 3, 4], [1, 1, 2, 2], { dtype: 'f16' }), tensor([1], [1, 1, 1, 1]))), /conv2d: expects f32 operands, got input f16 \[1, 1, 2, 2\] and weight f32/);
  assert.throws(() => ops.cast(z, 'i32'), /cast: dtype must be 'f32' or 'f16'/);
  for (const t of [z, v]) t.dispose();
});

// ---- matmul ------------------------------------------------------------------------------------

/** float64 C[b] = op(A[b])·op(B[b]) + bias, A/B in their stored layout. */
function refMm(a, b, { bm, m, n, k, ta, tb, sa, sb, bias }) {
  const c = new Float64Array(bm * m * n);
  for (let z = 0; z < bm; z++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = bias ? bias[j] : 0;
    for (let p = 0; p < k; p++) s += (ta ? a[z * sa + p * m + i] : a[z * sa + i * k + p]) * (tb ? b[z * sb + j * k + p] : b[z * sb + p * n + j]);
    c[z * m * n + i * n + j] = s;
  }
  return c;
}

function expectedHalf(variant, { m, n, k, ta, tb }) {
  if (variant === 'rb') return [k % 4 === 0 && (!ta || m % 4 === 0) && (tb || n % 4 === 0) ? 'matmul(rb4,f16)' : 'matmul(rb,f16)'];
  if (variant === 'sg') return [...(ta ? [] : ['matmul(transpose,f16)']), ...(tb ? ['matmul(transpose,f16)'] : []), 'matmul(sg,f16)'];
  return ['matmul(tiled,f16)'];
}

async function checkMm(variant, { m, n, k, ta = false, tb = false, batch = 0, withBias = false, seed = 1 }) {
  const r = rng(seed);
  const aS = ta ? [k, m] : [m, k];
  const bS = tb ? [n, k] : [k, n];
  const fa = batch ? [batch, ...aS] : aS;
  const fb = batch ? [batch, ...bS] : bS;
  const ah = halfExact(size(fa), r);
  const bh = halfExact(size(fb), r);
  const biash = withBias ? r.uniform(n) : null;
  const a = tensor(Float32Array.from(ah), fa, { dtype: 'f16' });
  const b = tensor(Float32Array.from(bh), fb, { dtype: 'f16' });
  const bias = biash ? tensor(Float32Array.from(biash), [n]) : null;
  let c;
  const labels = await labelsOf(() => { c = internal.matmulRaw(a, b, { transA: ta, transB: tb, bias, variant }); });
  const what = `${variant} f16 ${fa}${ta ? 'ᵀ' : ''}·${fb}${tb ? 'ᵀ' : ''}`;
  assert.equal(labels, expectedHalf(variant, { m, n, k, ta, tb }), `${what}: kernels`);
  assert.is(c.dtype, 'f32', `${what}: the product is f32`);
  const want = refMm(ah, bh, { bm: batch || 1, m, n, k, ta, tb, sa: m * k, sb: k * n, bias: biash });
  assertClose(await c.read(), want, { rtol: 1e-4, atol: 2e-5 * Math.sqrt(k + 1), what });
  for (const t of [a, b, bias, c]) t?.dispose();
}

for (const v of tuning.availableMatmulVariants()) {
  test(`matmul ${v} on f16 operands: every transpose, awkward and vec4-aligned shapes, batch, bias`, async () => {
    for (const s of [{ m: 37, n: 19, k: 61 }, { m: 12, n: 20, k: 16 }, { m: 1, n: 5, k: 3 }]) {
      for (const ta of [false, true]) for (const tb of [false, true]) await checkMm(v, { ...s, ta, tb, seed: s.m + s.k });
    }
    await checkMm(v, { m: 33, n: 9, k: 17, batch: 3, withBias: true, tb: true });
    await checkMm(v, { m: 8, n: 12, k: 4, batch: 2, ta: true, withBias: true });
  });
}

// ---- convolution ---------------------------------------------------------------------------------

/**
 * conv2d forward + backward of L = Σ R·y under autocast with inputs f16 holds exactly (x, w and R:
 * every GEMM operand, the upstream gradient included, is exact in f16), against the float64
 * reference with the f32 tests' tolerances; returns the dispatch labels.
 */
async function compareHalf(name, xs, ws, { bias = true, seed = 1, wscale = 0.5, ...opts } = {}) {
  const r = rng(seed);
  const x = halfExact(size(xs), r);
  const w = halfExact(size(ws), r, -wscale, wscale);
  const b = bias ? Float64Array.from(Float32Array.from(r.uniform(ws[0]))) : null;
  const y = conv2dRef(x, xs, w, ws, b, opts);
  const R = halfExact(y.length, r);
  const tx = tensor(Float32Array.from(x), xs, { requiresGrad: true });
  const tw = tensor(Float32Array.from(w), ws, { requiresGrad: true });
  const tb = b ? tensor(Float32Array.from(b), [ws[0]], { requiresGrad: true }) : null;
  let ty, loss;
  const labels = await labelsOf(async () => {
    [ty, loss] = scope(() => {
      const out = amp.autocast(() => ops.conv2d(tx, tw, tb, opts));
      return [out, ops.sum(ops.mul(out, tensor(Float32Array.from(R), out.shape)))];
    });
    loss.backward();
    await tx.grad.read();
  });
  assert.is(ty.dtype, 'f32', `${name}: conv2d's output is f32`);
  assertClose(await ty.read(), y, { rtol: 2e-4, atol: 2e-4, what: `${name}: forward` });
  const ref = conv2dGradRef(actMask(R, y, actOf(opts)), x, xs, w, ws, opts);
  const k = Math.max(1, wscale / 0.5);
  assertClose(await tx.grad.read(), ref.gx, { rtol: 2e-4, atol: 2e-4 * k, what: `${name}: d/dx` });
  assertClose(await tw.grad.read(), ref.gw, { rtol: 2e-4, atol: 5e-4 * k, what: `${name}: d/dw` });
  if (tb) assertClose(await tb.grad.read(), ref.gb, { rtol: 2e-4, atol: 5e-4 * k, what: `${name}: d/db` });
  for (const t of [tx, tw, tb, ty, loss]) t?.dispose();
  assertAllHalf(labels, name);
  return labels;
}

const DENSE = [
  ['3x3 p1 odd channels relu', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, act: 'relu', seed: 11 }],
  ['5x5 LeNet conv2 shape, no pad', [2, 6, 9, 9], [16, 6, 5, 5], { seed: 12 }],
  ['3x3 s2 p1 batch 1, no bias', [1, 3, 9, 8], [7, 3, 3, 3], { stride: 2, padding: 1, bias: false, seed: 13 }],
  ['3x2 s[2,1] p[0,2] relu6', [2, 3, 7, 5], [5, 3, 3, 2], { stride: [2, 1], padding: [0, 2], act: 'relu6', wscale: 4, seed: 14 }],
  ['groups 2', [2, 6, 7, 5], [4, 3, 3, 3], { padding: 1, groups: 2, seed: 15 }],
];

test('conv2d direct kernels on f16 operands (forward, input gradient both forms, weight gradient)', async () => {
  for (const dgradAsForward of [false, true]) {
    await withTuning({ path: { fwd: 'direct', dgrad: 'direct', wgrad: 'direct' }, dgradAsForward }, async () => {
      for (const [name, xs, ws, o] of DENSE) {
        const labels = await compareHalf(`direct ${name} (dgradAsForward ${dgradAsForward})`, xs, ws, o);
        assert.ok(labels.some((l) => l.startsWith('conv2d_forward(') && l.includes(',f16')), `direct forward ran: ${labels}`);
        assert.ok(labels.some((l) => l.startsWith('conv2d_weight_grad(') && l.includes(',f16')), `direct wgrad ran: ${labels}`);
      }
    });
  }
});

test('conv2d im2col lowering on f16 operands, with the rb and sg matmuls', async () => {
  for (const mm of tuning.availableMatmulVariants().filter((v) => v !== 'tiled')) {
    await withTuning({ path: { fwd: 'im2col', dgrad: 'im2col', wgrad: 'im2col' } }, async () => {
      tuning.setMatmulVariant(mm);
      for (const [name, xs, ws, o] of DENSE.filter(([, , , o]) => !o.groups)) {
        const labels = await compareHalf(`im2col/${mm} ${name}`, xs, ws, o);
        assert.ok(labels.some((l) => l.startsWith('conv2d_im2col(') && l.includes(',f16')), `im2col ran: ${labels}`);
      }
    });
  }
});

test('conv2d tiled implicit GEMM on f16 operands, every tile configuration', async () => {
  for (const cfg of Object.keys(tuning.TILE_CONFIGS)) {
    await withTuning({ path: { fwd: cfg, dgrad: cfg, wgrad: cfg } }, async () => {
      for (const [name, xs, ws, o] of [DENSE[0], DENSE[3], DENSE[4]]) {
        const labels = await compareHalf(`${cfg} ${name}`, xs, ws, o);
        assert.ok(labels.some((l) => l.startsWith('conv2d_tiled_weight_grad(') && l.includes(',f16')), `tiled ran: ${labels}`);
      }
    });
  }
});

test('conv2d 1×1 (matmul path), depthwise 3×3 / 5×5 and a channel multiplier on f16 operands', async () => {
  const pw = await compareHalf('1x1 no bias', [2, 7, 5, 6], [9, 7, 1, 1], { bias: false, act: 'relu', seed: 21 });
  assert.ok(pw.some((l) => l.startsWith('matmul(') && l.includes('f16')), `1x1 ran on matmul: ${pw}`);
  for (const [ks, st] of [[3, 1], [3, 2], [5, 1]]) {
    const dw = await compareHalf(`depthwise ${ks}x${ks} s${st}`, [2, 6, 11, 9], [6, 1, ks, ks], { padding: (ks - 1) / 2, stride: st, groups: 6, act: 'relu6', wscale: 3, seed: 22 + ks + st });
    assert.ok(dw.some((l) => l === 'conv2d_dw_forward(f16)') && dw.some((l) => l === 'conv2d_dw_weight_grad(f16)'), `depthwise ran: ${dw}`);
  }
  await compareHalf('channel multiplier 2', [1, 3, 6, 7], [6, 1, 3, 3], { padding: 1, groups: 3, seed: 30 });
});

test('f16 rounding of the test reference itself: f16round agrees with known binary16 values', () => {
  // guards the reference: values from the IEEE 754 binary16 table
  assert.is(f16round(65504), 65504);
  assert.is(f16round(65519), 65504);
  assert.is(f16round(65520), Infinity);
  assert.is(f16round(2 ** -24), 2 ** -24);
  assert.is(f16round(2 ** -25), 0); // tie to even (0)
  assert.is(f16round(3 * 2 ** -25), 2 ** -23); // tie: 1.5 ulps → 2 ulps (even)
  assert.is(f16round(1 + 2 ** -11), 1); // tie to even
  assert.is(f16round(1 + 3 * 2 ** -11), 1 + 2 ** -9);
  assert.is(f16round(0.1), 0.0999755859375);
  assert.equal(Array.from(roundAll([2049, 2051, 4097])), [2048, 2052, 4096]);
});

test.run();
