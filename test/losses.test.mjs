// losses: fused = composed = float64 reference (values and gradients), finite differences,
// edge cases (negative baselines, zb = z, extreme logits, tiny shapes), bad input. Tests named
// after a code path (fused / composed, the scale passes, noGrad, the two-level mean) check
// through gpu().onDispatch that the path's kernels ran.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib, { tensor, scope, noGrad, ops, gpu } from './helpers/lib.mjs';
import { rng, assertClose, fdGrad } from './helpers/ref.mjs';
import { focusRef, ceRef, kdRef, warmLabelRef } from './helpers/loss-ref.mjs';
import { dispatched } from './helpers/dispatches.mjs';

const { losses } = lib;
const f32 = (a) => Float64Array.from(Float32Array.from(a));
/** The op name each kind's kernels are labelled with. */
const OP = { focus: 'focusPicking', ce: 'crossEntropy', kd: 'distillation' };

/** The labels of the dispatches `fn` makes (gpu().onDispatch), with its result. */

/**
 * The kernels of a loss's forward were those of `impl`: fused, the row kernel labelled `op`
 * (`op:no_grad` for the forward-only one) and the batch mean (its first level `op:sum_rows`
 * when B > 256); composed, the engine's ops (logSoftmax among them) and none of those.
 */
function assertPath(labels, kind, impl, B, { grad = true, what = '' } = {}) {
  const op = OP[kind];
  const seen = (l) => labels.includes(l);
  const msg = (m) => `${what || kind} ${impl}: ${m} (dispatched: ${labels.join(', ')})`;
  if (impl === 'fused') {
    assert.ok(seen(grad ? op : `${op}:no_grad`), msg(`the fused ${grad ? '' : 'forward-only '}row kernel ran`));
    assert.not.ok(seen(grad ? `${op}:no_grad` : op), msg('only that row kernel'));
    assert.ok(seen(`${op}:mean`), msg('the batch mean ran'));
    assert.is(seen(`${op}:sum_rows`), B > 256, msg(`the two-level mean's first level runs exactly when B > 256 (B = ${B})`));
    assert.not.ok(seen('logSoftmax'), msg('no composed ops'));
  } else {
    assert.ok(seen('logSoftmax'), msg('the composed ops ran'));
    assert.not.ok(labels.some((l) => l === op || l.startsWith(`${op}:no_grad`) || l === `${op}:mean`), msg('no fused kernel'));
  }
}

/** Run one loss with impl on float32-rounded copies; returns { value, grad } as read back. */
async function engine(kind, impl, z, zb, labels, B, N, opts = {}) {
  const tz = tensor(Float32Array.from(z), [B, N], { requiresGrad: true });
  const tb = tensor(Float32Array.from(zb ?? z), [B, N]);
  const tl = tensor(Int32Array.from(labels), [B], { dtype: 'i32' });
  const fwd = dispatched(() => scope(() => {
    if (kind === 'focus') return losses.focusPicking(tz, tb, tl, { ...opts, impl });
    if (kind === 'ce') return losses.crossEntropy(tz, tl, { ...opts, impl });
    return losses.distillation(tz, tb, tl, { ...opts, impl });
  }));
  const y = fwd.result;
  assertPath(fwd.labels, kind, impl, B);
  const value = await y.item();
  const bwd = dispatched(() => y.backward());
  // loss.backward()'s seed of 1 is known: the fused backward hands the saved dL/dz on unscaled
  if (impl === 'fused') assert.not.ok(bwd.labels.some((l) => l.startsWith(`${OP[kind]}_backward`)), `${kind} fused: no scale pass for the unit seed (${bwd.labels.join(', ')})`);
  const grad = Float64Array.from(await tz.grad.read());
  y.dispose();
  tz.dispose(); tb.dispose(); tl.dispose();
  return { value, grad };
}

function reference(kind, z, zb, labels, B, N, opts = {}) {
  if (kind === 'focus') return focusRef(z, zb, labels, B, N, opts);
  if (kind === 'ce') return ceRef(z, labels, B, N, opts);
  return kdRef(z, zb, B, N, opts);
}

const maxAbs = (a) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** fused and composed against the float64 reference; rtol on values, gradients relative to their scale. */
async function agree(kind, z, zb, labels, B, N, opts = {}, { rtol = 1e-5, what = kind } = {}) {
  z = f32(z); zb = zb && f32(zb);
  const ref = reference(kind, z, zb, labels, B, N, opts);
  assert.ok(Number.isFinite(ref.value), `${what}: reference is finite`);
  const scale = Math.max(maxAbs(ref.grad), 1e-30);
  const out = {};
  for (const impl of ['fused', 'composed']) {
    const e = await engine(kind, impl, z, zb, labels, B, N, opts);
    assert.ok(Number.isFinite(e.value), `${what} ${impl}: value ${e.value} is finite`);
    assertClose([e.value], [ref.value], { rtol, atol: 1e-7, what: `${what} ${impl}: value` });
    assertClose(e.grad, ref.grad, { rtol, atol: Math.max(rtol * scale, 1e-7), what: `${what} ${impl}: dL/dz` });
    out[impl] = e;
  }
  return { ref, ...out };
}

/** Finite differences of the float64 reference value, against the engine's gradients. */
async function fdCheck(kind, z, zb, labels, B, N, opts = {}) {
  z = f32(z); zb = zb && f32(zb);
  const [fd] = fdGrad((zz) => reference(kind, zz, zb, labels, B, N, opts).value, [Float64Array.from(z)], 1e-5);
  const ref = reference(kind, z, zb, labels, B, N, opts);
  const scale = maxAbs(fd);
  assertClose(ref.grad, fd, { rtol: 1e-5, atol: 1e-6 * scale, what: `${kind}: analytic reference vs finite differences` });
  for (const impl of ['fused', 'composed']) {
    const e = await engine(kind, impl, z, zb, labels, B, N, opts);
    assertClose(e.grad, fd, { rtol: 1e-4, atol: 1e-5 * scale, what: `${kind} ${impl}: dL/dz vs finite differences` });
  }
}

function inputs(seed, B, N, scale = 2) {
  const r = rng(seed);
  return { z: r.randn(B * N, scale), zb: r.randn(B * N, scale), labels: r.ints(B, N) };
}

// ---- focus-picking ------------------------------------------------------------------------------

test('focusPicking: fused = composed = reference, defaults, N not a multiple of 64', async () => {
  const { z, zb, labels } = inputs(1, 9, 67);
  await agree('focus', z, zb, labels, 9, 67);
});

test('focusPicking: finite differences, both rules, smoothing on and off, alpha 0.5 beta 2', async () => {
  const { z, zb, labels } = inputs(2, 3, 6);
  await fdCheck('focus', z, zb, labels, 3, 6);
  await fdCheck('focus', z, zb, labels, 3, 6, { rule: 'softmax', temperature: 2, labelSmoothing: 0.1, alpha: 0.5, beta: 2 });
  await fdCheck('focus', z, zb, labels, 3, 6, { rule: 'softmax', temperature: 0.7 });
  const w4 = inputs(23, 2, 8);   // vec4 kernel variant
  await fdCheck('focus', w4.z, w4.zb, w4.labels, 2, 8, { labelSmoothing: 0.1 });
  await fdCheck('focus', w4.z, w4.zb, w4.labels, 2, 8, { rule: 'softmax', alpha: 0.5, beta: 2 });
});

test('focusPicking: option grid (rule x smoothing x alpha/beta)', async () => {
  const { z, zb, labels } = inputs(3, 6, 13);
  const v4 = inputs(24, 5, 64);
  for (const rule of ['positive-logit', 'softmax']) await agree('focus', v4.z, v4.zb, v4.labels, 5, 64, { rule, labelSmoothing: 0.1 }, { what: `focus N = 64 ${rule}` });
  for (const rule of ['positive-logit', 'softmax']) {
    for (const labelSmoothing of [0, 0.1]) {
      for (const [alpha, beta] of [[1, 1], [0.5, 2]]) {
        await agree('focus', z, zb, labels, 6, 13, { rule, labelSmoothing, alpha, beta }, { what: `focus ${rule} eps=${labelSmoothing} a=${alpha} b=${beta}` });
      }
    }
  }
});

test('focusPicking: every baseline logit negative (warm label = one-hot)', async () => {
  const B = 4, N = 11;
  const r = rng(4);
  const z = r.randn(B * N, 2);
  const zb = r.uniform(B * N, -5, -0.01);
  const labels = r.ints(B, N);
  const { ref } = await agree('focus', z, zb, labels, B, N, {}, { what: 'negative baseline' });
  // with l = y, Ratt is the cross-entropy of p: L = Lcls + CE(p) - H(p)
  const ce = ceRef(f32(z), labels, B, N).value;
  const cls = focusRef(f32(z), f32(zb), labels, B, N, { alpha: 0, beta: 0 }).value;
  const ent = focusRef(f32(z), f32(zb), labels, B, N, { alpha: 0, beta: -1 }).value - cls;
  assertClose([ref.value], [cls + ce - ent], { rtol: 1e-12, what: 'reference decomposition' });
  const w = losses.multiWarmLabel(tensor(Float32Array.from(zb), [B, N]), tensor(labels, [B], { dtype: 'i32' }));
  const oneHot = new Float64Array(B * N);
  for (let i = 0; i < B; i++) oneHot[i * N + labels[i]] = 1;
  assertClose(await w.read(), oneHot, { what: 'warm label is the one-hot' });
});

test('focusPicking: zb = z, and the label class holding the lowest logit', async () => {
  const B = 5, N = 9;
  const { z } = inputs(5, B, N);
  const low = Int32Array.from({ length: B }, (_, r) => {
    let k = 0;
    for (let j = 1; j < N; j++) if (z[r * N + j] < z[r * N + k]) k = j;
    return k;
  });
  await agree('focus', z, z, low, B, N, {}, { what: 'zb = z, label at the lowest logit' });
  await agree('focus', z, z, low, B, N, { rule: 'softmax' }, { what: 'zb = z, softmax rule' });
  await fdCheck('focus', z.slice(0, 2 * N), z.slice(0, 2 * N), low.slice(0, 2), 2, N);
});

test('focusPicking: N = 2, B = 1', async () => {
  await agree('focus', [0.3, -1.2], [0.5, 0.25], [1], 1, 2);
  await agree('focus', [0.3, -1.2], [-0.5, -0.25], [0], 1, 2, { rule: 'softmax', labelSmoothing: 0.2, alpha: 0.5, beta: 2 });
  const { z, zb, labels } = inputs(6, 1, 300);
  await agree('focus', z, zb, labels, 1, 300, {}, { what: 'B = 1, N = 300' });
  const s = inputs(7, 40, 2);
  await agree('focus', s.z, s.zb, s.labels, 40, 2, {}, { what: 'B = 40, N = 2' });
});

test('focusPicking: logits of +-80 stay finite and match the reference', async () => {
  for (const N of [10, 12, 7]) await extremes(6, N);
});

async function extremes(B, N) {
  const r = rng(8 + N);
  const z = Float64Array.from({ length: B * N }, () => (r.next() < 0.5 ? -80 : 80) + r.uniform(1)[0]);
  const zb = Float64Array.from({ length: B * N }, () => (r.next() < 0.5 ? -80 : 80) + r.uniform(1)[0]);
  const labels = r.ints(B, N);
  for (const rule of ['positive-logit', 'softmax']) {
    for (const labelSmoothing of [0, 0.1]) {
      // f32 rounding of u = z + p - pb at |z| = 80 costs ~1e-5 absolute: looser tolerance
      await agree('focus', z, zb, labels, B, N, { rule, labelSmoothing }, { rtol: 2e-4, what: `+-80 ${rule} eps=${labelSmoothing}` });
    }
  }
  await agree('ce', z, null, labels, B, N, { labelSmoothing: 0.1 }, { rtol: 2e-4, what: 'CE +-80' });
  await agree('kd', z, zb, labels, B, N, { temperature: 1 }, { rtol: 2e-4, what: 'KD +-80' });
}

test('focusPicking: large batch (two-level reduction) and large N', async () => {
  const a = inputs(9, 700, 3);
  await agree('focus', a.z, a.zb, a.labels, 700, 3, { rule: 'softmax' }, { what: 'B = 700' });
  const b = inputs(10, 2, 4099, 3);
  await agree('focus', b.z, b.zb, b.labels, 2, 4099, {}, { rtol: 2e-5, what: 'N = 4099' });
  const c = inputs(26, 3, 4096, 3);
  await agree('focus', c.z, c.zb, c.labels, 3, 4096, { rule: 'softmax', labelSmoothing: 0.1 }, { rtol: 2e-5, what: 'N = 4096' });
  await agree('ce', c.z, null, c.labels, 3, 4096, { labelSmoothing: 0.1 }, { rtol: 2e-5, what: 'CE N = 4096' });
  const d = inputs(27, 4096, 3);
  await agree('focus', d.z, d.zb, d.labels, 4096, 3, { labelSmoothing: 0.1 }, { what: 'B = 4096' });
  await agree('kd', d.z, d.zb, d.labels, 4096, 3, {}, { what: 'KD B = 4096' });
});

test('focusPicking: gradient reaches z only; zb and labels are not written; upstream gradient scales', async () => {
  for (const [B, N] of [[3, 5], [4, 5]]) {   // 15 and 20 gradient entries: the f32 and the vec4 scale pass
    const { z, zb, labels } = inputs(11, B, N);
    for (const impl of ['fused', 'composed']) {
      const tz = tensor(Float32Array.from(z), [B, N], { requiresGrad: true });
      const tb = tensor(Float32Array.from(zb), [B, N], { requiresGrad: true });
      const tl = tensor(labels, [B], { dtype: 'i32' });
      const y = scope(() => ops.mul(losses.focusPicking(tz, tb, tl, { impl }), 3));
      const { labels: bwd } = dispatched(() => y.backward());
      assertScalePass(bwd, 'focusPicking', impl, B * N);
      assert.is(tb.grad, null, `${impl}: zb gets no gradient`);
      const ref = focusRef(f32(z), f32(zb), labels, B, N);
      assertClose(await tz.grad.read(), ref.grad.map((g) => 3 * g), { rtol: 1e-5, atol: 1e-7, what: `${impl} [${B}, ${N}]: 3 * dL/dz` });
      assertClose(await tb.read(), Float32Array.from(zb), { rtol: 0, atol: 0, what: `${impl}: zb unchanged` });
      assert.equal(Array.from(await tl.read()), Array.from(labels), `${impl}: labels unchanged`);
      y.dispose(); tz.dispose(); tb.dispose(); tl.dispose();
    }
  }
  // CE and KD: the same backward (the saved dL/dz scaled by the upstream gradient), both passes
  for (const [B, N] of [[3, 5], [4, 5]]) {
    const { z, zb, labels } = inputs(28, B, N);
    for (const kind of ['ce', 'kd']) {
      const tz = tensor(Float32Array.from(z), [B, N], { requiresGrad: true });
      const tb = tensor(Float32Array.from(zb), [B, N]);
      const tl = tensor(labels, [B], { dtype: 'i32' });
      const y = scope(() => ops.mul(kind === 'ce' ? losses.crossEntropy(tz, tl) : losses.distillation(tz, tb, tl), -2));
      const { labels: bwd } = dispatched(() => y.backward());
      assertScalePass(bwd, OP[kind], 'fused', B * N);
      const ref = reference(kind, f32(z), f32(zb), labels, B, N);
      assertClose(await tz.grad.read(), ref.grad.map((g) => -2 * g), { rtol: 1e-5, atol: 1e-7, what: `${kind} [${B}, ${N}]: -2 * dL/dz` });
      y.dispose(); tz.dispose(); tb.dispose(); tl.dispose();
    }
  }
});

/** A fused loss's backward under an upstream gradient other than 1 ran the scale pass of its size (vec4 when size % 4 == 0); a composed one none. */
function assertScalePass(labels, op, impl, size) {
  const f32Pass = labels.filter((l) => l === `${op}_backward`).length;
  const v4Pass = labels.filter((l) => l === `${op}_backward:v4`).length;
  const what = `${op} ${impl}, ${size} gradient entries (dispatched: ${labels.join(', ')})`;
  if (impl === 'composed') assert.is(f32Pass + v4Pass, 0, `${what}: no fused scale pass`);
  else if (size % 4 === 0) assert.equal([f32Pass, v4Pass], [0, 1], `${what}: one vec4 scale pass`);
  else assert.equal([f32Pass, v4Pass], [1, 0], `${what}: one f32 scale pass`);
}

test('focusPicking, crossEntropy, distillation: forward without gradient (noGrad) gives the same value', async () => {
  const B = 4, N = 7;
  const { z, zb, labels } = inputs(12, B, N);
  const opts = { focus: { labelSmoothing: 0.1 }, ce: { labelSmoothing: 0.1 }, kd: { temperature: 2 } };
  const run = { focus: losses.focusPicking, ce: (a, b, l, o) => losses.crossEntropy(a, l, o), kd: losses.distillation };
  for (const kind of ['focus', 'ce', 'kd']) {
    const ref = reference(kind, f32(z), f32(zb), labels, B, N, opts[kind]);
    for (const impl of ['fused', 'composed']) {
      // z requires grad: noGrad alone must select the forward-only kernel (GRAD = 0)
      const tz = tensor(Float32Array.from(z), [B, N], { requiresGrad: true });
      const { result: y, labels: fwd } = dispatched(() => noGrad(() => run[kind](tz, tensor(Float32Array.from(zb), [B, N]), tensor(labels, [B], { dtype: 'i32' }), { impl, ...opts[kind] })));
      assertPath(fwd, kind, impl, B, { grad: false, what: `${kind} under noGrad` });
      assertClose([await y.item()], [ref.value], { rtol: 1e-5, what: `${kind} ${impl} under noGrad` });
      // and a z without requiresGrad, outside noGrad, too
      const { result: y2, labels: fwd2 } = dispatched(() => run[kind](tensor(Float32Array.from(z), [B, N]), tensor(Float32Array.from(zb), [B, N]), tensor(labels, [B], { dtype: 'i32' }), { impl, ...opts[kind] }));
      assertPath(fwd2, kind, impl, B, { grad: false, what: `${kind} without requiresGrad` });
      assertClose([await y2.item()], [ref.value], { rtol: 1e-5, what: `${kind} ${impl} without requiresGrad` });
      tz.dispose();
    }
  }
});

// ---- multi-warm label -------------------------------------------------------------------------

test('multiWarmLabel: both rules against the reference', async () => {
  const B = 7, N = 33;
  const { zb, labels } = inputs(13, B, N);
  for (const [rule, temperature] of [['positive-logit', 2], ['softmax', 2], ['softmax', 0.5]]) {
    const w = losses.multiWarmLabel(tensor(Float32Array.from(zb), [B, N]), tensor(labels, [B], { dtype: 'i32' }), { rule, temperature });
    assert.equal(w.shape, [B, N]);
    const ref = warmLabelRef(f32(zb), labels, B, N, { rule, temperature });
    assertClose(await w.read(), ref, { rtol: 1e-6, atol: 1e-7, what: `warm label ${rule} T=${temperature}` });
    for (let r = 0; r < B; r++) assert.ok(ref[r * N + labels[r]] > 0, 'label is warm');
  }
});

// ---- cross-entropy and distillation -------------------------------------------------------------

test('crossEntropy: with and without label smoothing, finite differences', async () => {
  const { z, labels } = inputs(14, 8, 70);
  await agree('ce', z, null, labels, 8, 70);
  await agree('ce', z, null, labels, 8, 70, { labelSmoothing: 0.1 });
  const s = inputs(15, 3, 4);
  await fdCheck('ce', s.z, null, s.labels, 3, 4, { labelSmoothing: 0.1 });
  await agree('ce', [2.5, -1], null, [0], 1, 2, {}, { what: 'CE B = 1, N = 2' });
});

test('distillation: T = 4 and T = 1, finite differences', async () => {
  const { z, zb, labels } = inputs(16, 6, 21);
  await agree('kd', z, zb, labels, 6, 21);
  await agree('kd', z, zb, labels, 6, 21, { temperature: 1 });
  await agree('kd', z, z, labels, 6, 21, {}, { what: 'KD zb = z' });
  const s = inputs(17, 2, 5);
  await fdCheck('kd', s.z, s.zb, s.labels, 2, 5, { temperature: 3 });
  const v = inputs(25, 3, 8);
  await fdCheck('kd', v.z, v.zb, v.labels, 3, 8, { temperature: 2 });
  await agree('kd', v.z, v.zb, v.labels, 3, 8, { temperature: 0.5 }, { what: 'KD T = 0.5' });
  await fdCheck('ce', v.z, null, v.labels, 3, 8);
});

// ---- bad input --------------------------------------------------------------------------------

async function rejects(fn, pattern, what) {
  try {
    const y = await fn();
    if (y && y.read) await y.read();
  } catch (e) {
    assert.match(String(e.message), pattern, `${what}: message`);
    return;
  }
  assert.unreachable(`${what}: expected an error`);
}

test('bad input: labels out of range are reported at the next read, naming the argument and row', async () => {
  const B = 4, N = 6;
  const { z, zb } = inputs(18, B, N);
  const tz = tensor(Float32Array.from(z), [B, N], { requiresGrad: true });
  const tb = tensor(Float32Array.from(zb), [B, N]);
  for (const bad of [[0, 1, 6, 2], [-1, 0, 0, 0]]) {
    const tl = tensor(Int32Array.from(bad), [B], { dtype: 'i32' });
    const row = bad.findIndex((v) => v < 0 || v >= N);
    const msg = new RegExp(`labels\\[${row}\\] = ${bad[row]} is out of range for ${N} classes`);
    for (const impl of ['fused', 'composed']) {
      await rejects(() => losses.focusPicking(tz, tb, tl, { impl }), msg, `focus ${impl} ${bad}`);
      await rejects(() => losses.crossEntropy(tz, tl, { impl }), msg, `ce ${impl} ${bad}`);
    }
    await rejects(() => { losses.multiWarmLabel(tb, tl).dispose(); return losses.crossEntropy(tz, tensor([0, 1, 2, 3], [B], { dtype: 'i32' })); }, /multiWarmLabel: argument 'labels'/, `warm ${bad}`);
    // the fused loss value is NaN, and the status is clear afterwards
    const y = noGrad(() => losses.focusPicking(tz, tb, tl));
    const v = (await lib.Tensor.prototype.read.call(y))[0]; // the plain read, without the label check
    assert.ok(Number.isNaN(v), 'fused loss is NaN with a bad label');
    await rejects(() => losses.checkLabels(), msg, 'checkLabels reports it');
    const ok = await losses.focusPicking(tz, tb, tensor([0, 1, 2, 3], [B], { dtype: 'i32' })).item();
    assertClose([ok], [focusRef(f32(z), f32(zb), [0, 1, 2, 3], B, N).value], { rtol: 1e-5, what: 'next call is fine' });
    tl.dispose();
  }
  // a large batch (two-level reduction): the bad row is found past the first chunk
  const big = 600;
  const r = rng(19);
  const lab = r.ints(big, 5); lab[517] = 5;
  await rejects(() => losses.crossEntropy(tensor(r.randn(big * 5), [big, 5]), tensor(lab, [big], { dtype: 'i32' })), /labels\[517\] = 5/, 'big batch');
  // checkLabels() for losses accumulated on the GPU and read later
  const acc = losses.crossEntropy(tz, tensor([0, 9, 1, 1], [B], { dtype: 'i32' }));
  const sum = ops.add(acc, 1);
  await sum.read();
  try { await losses.checkLabels(); assert.unreachable('checkLabels throws'); } catch (e) { assert.match(e.message, /crossEntropy: argument 'labels': labels\[1\] = 9/); }
  await losses.checkLabels();
});

test('bad input: shapes that disagree, wrong dtypes, bad options', async () => {
  const z = tensor(rng(20).randn(12), [3, 4]);
  const zb = tensor(rng(21).randn(12), [3, 4]);
  const lab = tensor([0, 1, 2], [3], { dtype: 'i32' });
  await rejects(() => losses.focusPicking(z, tensor(rng(1).randn(15), [3, 5]), lab), /argument 'zb' \[3, 5\] must have the shape of 'z' \[3, 4\]/, 'zb shape');
  await rejects(() => losses.focusPicking(z, zb, tensor([0, 1], [2], { dtype: 'i32' })), /argument 'labels' must be i32 \[3\].*got \[2\]/, 'labels length');
  await rejects(() => losses.focusPicking(z, zb, tensor([0, 1, 2], [3])), /argument 'labels' must have dtype i32, got f32/, 'labels dtype');
  await rejects(() => losses.crossEntropy(tensor([0, 1, 2], [3], { dtype: 'i32' }), lab), /crossEntropy: argument 'logits' must have dtype f32/, 'logits dtype');
  await rejects(() => losses.crossEntropy(tensor(rng(1).randn(12), [12]), lab), /argument 'logits' must be 2-D/, 'logits rank');
  await rejects(() => losses.distillation(z, tensor(rng(1).randn(8), [2, 4]), lab), /distillation: argument 'zb'/, 'kd shape');
  await rejects(() => losses.multiWarmLabel(zb, tensor([0, 1, 2, 0], [4], { dtype: 'i32' })), /multiWarmLabel: argument 'labels'/, 'warm labels');
  await rejects(() => losses.focusPicking(z, zb, lab, { rule: 'zb>0' }), /option 'rule' must be one of 'positive-logit', 'softmax'/, 'rule');
  await rejects(() => losses.focusPicking(z, zb, lab, { impl: 'fast' }), /option 'impl'/, 'impl');
  await rejects(() => losses.focusPicking(z, zb, lab, { labelSmoothing: 1 }), /option 'labelSmoothing' must be in \[0, 1\)/, 'eps');
  await rejects(() => losses.distillation(z, zb, lab, { temperature: 0 }), /option 'temperature' must be a positive number/, 'T');
});

test('losses do not leak GPU memory across steps', async () => {
  const B = 16, N = 10;
  const { z, zb, labels } = inputs(22, B, N);
  const tz = tensor(Float32Array.from(z), [B, N], { requiresGrad: true });
  const tb = tensor(Float32Array.from(zb), [B, N]);
  const tl = tensor(labels, [B], { dtype: 'i32' });
  const step = () => scope(() => {
    for (const impl of ['fused', 'composed']) {
      losses.focusPicking(tz, tb, tl, { impl }).backward();
      losses.crossEntropy(tz, tl, { impl, labelSmoothing: 0.1 }).backward();
      losses.distillation(tz, tb, tl, { impl }).backward();
    }
    tz.grad.dispose(); tz.grad = null;
  });
  step(); await lib.gpu().sync();
  const before = lib.gpu().memory();
  for (let i = 0; i < 5; i++) step();
  await lib.gpu().sync();
  const after = lib.gpu().memory();
  assert.is(after.buffersInUse, before.buffersInUse, 'live buffers');
  assert.is(after.bytesInUse, before.bytesInUse, 'live bytes');
  // outside any scope: disposing the loss and the gradient frees everything the loss made
  for (const impl of ['fused', 'composed']) {
    const losses3 = [losses.focusPicking(tz, tb, tl, { impl }), losses.crossEntropy(tz, tl, { impl }), losses.distillation(tz, tb, tl, { impl })];
    for (const y of losses3) { y.backward(); y.dispose(); }
    tz.grad.dispose(); tz.grad = null;
    await lib.gpu().sync();
    assert.is(lib.gpu().memory().buffersInUse, before.buffersInUse, `${impl}: live buffers without a scope`);
  }
});

test.run();
