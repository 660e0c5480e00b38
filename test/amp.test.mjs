// Mixed precision (src/amp, src/ops/cast.ts): autocast's semantics; conv2d, linear and matmul
// under autocast on arbitrary f32 inputs against the float64 reference of those inputs, within
// the f16 bound (assertMixedClose: 2^-9 · Σ|a||b| per output — each operand rounded to f16
// carries at most 2^-11 relative error, so a product at most ~2^-10; doubled for devices that
// round either way); the GradScaler (scaled backward, overflow and NaN steps skipped on the GPU
// with parameters and momentum untouched, backoff and growth, unscale, errors, state); why it is
// there (gradients that flush to zero in f16 survive with it); the trainer's --precision mixed
// (metrics.jsonl's loss_scale and skipped_steps) and the errors without 'shader-f16'.
// Finite differences are not meaningful through f16 rounding (the function is piecewise constant
// at 2^-11 relative): gradients are checked against the float64 reference gradient instead; the
// backward rules themselves are the f32 ones, checked by finite differences in their own tests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { tensor, ops, scope, gpu, distDir } from './helpers/lib.mjs';
import { rng, size, assertClose, refMatmul } from './helpers/ref.mjs';
import { conv2dRef, conv2dGradRef } from './helpers/conv-ref.mjs';
import { labelsOf } from './helpers/conv-compare.mjs';
import { assertMixedClose, roundAll } from './helpers/half-ref.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const { amp, optim, train: T } = lib;
const abs = (a) => Float64Array.from(a, Math.abs);

test('autocast: conv2d, linear, matmul read f16 copies and return f32; other ops, nesting, errors', async () => {
  const r = rng(1);
  const x = tensor(Float32Array.from(r.uniform(2 * 3 * 6 * 6)), [2, 3, 6, 6]);
  const w = tensor(Float32Array.from(r.uniform(4 * 3 * 3 * 3)), [4, 3, 3, 3]);
  const a = tensor(Float32Array.from(r.uniform(5 * 7)), [5, 7]);
  const lw = tensor(Float32Array.from(r.uniform(3 * 7)), [3, 7]);
  assert.is(amp.isAutocastEnabled(), false);
  let inside;
  const labels = await labelsOf(() => scope(() => amp.autocast(() => {
    inside = amp.isAutocastEnabled();
    const y = ops.conv2d(x, w, null, { padding: 1 });
    const z = ops.linear(a, lw);
    const m = ops.matmul(a, ops.reshape(a, [7, 5]));
    const q = ops.relu(z);
    for (const t of [y, z, m, q]) assert.is(t.dtype, 'f32', 'outputs are f32');
    // enabled: false switches it off inside, and back on after
    amp.autocast(() => assert.is(amp.isAutocastEnabled(), false), { enabled: false });
    assert.is(amp.isAutocastEnabled(), true);
  })));
  assert.is(inside, true);
  assert.is(amp.isAutocastEnabled(), false, 'restored after the function');
  assert.ok(labels.filter((l) => l.startsWith('cast(f32→f16)')).length >= 6, `operands cast: ${labels}`);
  assert.ok(labels.filter((l) => /^(conv2d_forward|matmul)\(/.test(l)).every((l) => l.includes('f16')), `f16 kernels only: ${labels}`);
  // an error inside leaves autocast off; a promise is refused
  assert.throws(() => amp.autocast(() => { throw new Error('boom'); }), /boom/);
  assert.is(amp.isAutocastEnabled(), false);
  assert.throws(() => amp.autocast(async () => 1), /autocast: fn returned a promise/);
  assert.is(amp.isAutocastEnabled(), false);
  assert.throws(() => amp.autocast(42), /autocast: expects a function/);
  for (const t of [x, w, a, lw]) t.dispose();
});

/** conv2d forward + backward of Σ R·y under autocast on arbitrary f32 inputs vs float64 of those inputs. */
async function convMixed(name, xs, ws, opts, seed) {
  const r = rng(seed);
  const x = Float64Array.from(Float32Array.from(r.uniform(size(xs))));
  const w = Float64Array.from(Float32Array.from(r.uniform(size(ws), -0.5, 0.5)));
  const b = Float64Array.from(Float32Array.from(r.uniform(ws[0])));
  const y = conv2dRef(x, xs, w, ws, b, opts);
  const R = Float64Array.from(Float32Array.from(r.uniform(y.length)));
  const tx = tensor(Float32Array.from(x), xs, { requiresGrad: true });
  const tw = tensor(Float32Array.from(w), ws, { requiresGrad: true });
  const tb = tensor(Float32Array.from(b), [ws[0]], { requiresGrad: true });
  const [ty, loss] = scope(() => {
    const out = amp.autocast(() => ops.conv2d(tx, tw, tb, opts));
    return [out, ops.sum(ops.mul(out, tensor(Float32Array.from(R), out.shape)))];
  });
  loss.backward();
  const got = await ty.read();
  assertMixedClose(got, y, conv2dRef(abs(x), xs, abs(w), ws, null, opts), { what: `${name}: forward` });
  // the f16 rounding is really there: the result differs from the f32 one
  const y32 = scope(() => ops.conv2d(tx, tw, tb, opts));
  const d = got.reduce((s, v, i) => s + Math.abs(v - y[i]), 0) / y.length;
  const d32 = (await y32.read()).reduce((s, v, i) => s + Math.abs(v - y[i]), 0) / y.length;
  assert.ok(d > 4 * d32, `${name}: mixed error ${d} should exceed the f32 error ${d32}`);
  const ref = conv2dGradRef(R, x, xs, w, ws, opts);
  const bound = conv2dGradRef(abs(R), abs(x), xs, abs(w), ws, opts);
  assertMixedClose(await tx.grad.read(), ref.gx, bound.gx, { what: `${name}: d/dx` });
  assertMixedClose(await tw.grad.read(), ref.gw, bound.gw, { what: `${name}: d/dw` });
  assertClose(await tb.grad.read(), ref.gb, { rtol: 2e-4, atol: 5e-4, what: `${name}: d/db (an f32 sum)` });
  for (const t of [tx, tw, tb, ty, loss, y32]) t.dispose();
}

test('conv2d under autocast: forward and gradients within the f16 bound of float64 (LeNet shapes, 3×3 s2, depthwise)', async () => {
  await convMixed('LeNet conv1', [3, 1, 12, 12], [6, 1, 5, 5], {}, 41);
  await convMixed('LeNet conv2', [2, 6, 9, 9], [16, 6, 5, 5], {}, 42);
  await convMixed('3x3 s2 p1', [2, 5, 9, 8], [7, 5, 3, 3], { stride: 2, padding: 1 }, 43);
  await convMixed('depthwise 3x3', [2, 6, 8, 8], [6, 1, 3, 3], { padding: 1, groups: 6 }, 44);
});

test('linear and matmul under autocast: forward and gradients within the f16 bound of float64', async () => {
  const r = rng(7);
  const [B, I, O] = [9, 37, 13];
  const x = Float64Array.from(Float32Array.from(r.uniform(B * I, -3, 3)));
  const w = Float64Array.from(Float32Array.from(r.uniform(O * I)));
  const b = Float64Array.from(Float32Array.from(r.uniform(O)));
  const R = Float64Array.from(Float32Array.from(r.uniform(B * O)));
  const tx = tensor(Float32Array.from(x), [B, I], { requiresGrad: true });
  const tw = tensor(Float32Array.from(w), [O, I], { requiresGrad: true });
  const tb = tensor(Float32Array.from(b), [O], { requiresGrad: true });
  const [ty, loss] = scope(() => {
    const y = amp.autocast(() => ops.linear(tx, tw, tb));
    return [y, ops.sum(ops.mul(y, tensor(Float32Array.from(R), [B, O])))];
  });
  loss.backward();
  const yRef = refMatmul(x, w, B, I, O, { transB: true }).map((v, i) => v + b[i % O]);
  assertMixedClose(await ty.read(), yRef, refMatmul(abs(x), abs(w), B, I, O, { transB: true }), { what: 'linear forward' });
  assertMixedClose(await tx.grad.read(), refMatmul(R, w, B, O, I), refMatmul(abs(R), abs(w), B, O, I), { what: 'linear d/dx' });
  assertMixedClose(await tw.grad.read(), refMatmul(R, x, O, B, I, { transA: true }), refMatmul(abs(R), abs(x), O, B, I, { transA: true }), { what: 'linear d/dw' });
  const gb = new Float64Array(O);
  for (let i = 0; i < B * O; i++) gb[i % O] += R[i];
  assertClose(await tb.grad.read(), gb, { rtol: 1e-5, atol: 1e-5, what: 'linear d/db (f32)' });
  // matmul, A·B with both requiring gradients
  // (gradients are disposed, not dropped: a tensor left to the garbage collector would move the
  // buffer counts of the memory tests that run after this file)
  tx.grad.dispose();
  tx.grad = null;
  const m2 = tensor(Float32Array.from(w), [I, O], { requiresGrad: true });
  const [tc, l2] = scope(() => {
    const c = amp.autocast(() => ops.matmul(tx, m2));
    return [c, ops.sum(ops.mul(c, tensor(Float32Array.from(R), [B, O])))];
  });
  l2.backward();
  assertMixedClose(await tc.read(), refMatmul(x, w, B, I, O), refMatmul(abs(x), abs(w), B, I, O), { what: 'matmul forward' });
  assertMixedClose(await tx.grad.read(), refMatmul(R, w, B, O, I, { transB: true }), refMatmul(abs(R), abs(w), B, O, I, { transB: true }), { what: 'matmul d/da' });
  assertMixedClose(await m2.grad.read(), refMatmul(x, R, I, B, O, { transA: true }), refMatmul(abs(x), abs(R), I, B, O, { transA: true }), { what: 'matmul d/db' });
  for (const t of [tx, tw, tb, ty, loss, m2, tc, l2]) t.dispose();
});

// ---- GradScaler -------------------------------------------------------------------------------

/** A tiny model: loss = Σ R ⊙ (x·Wᵀ) · k, under autocast; returns the loss (inside the caller's scope). */
function lossOf(W, x, R, k = 1) {
  return amp.autocast(() => ops.sum(ops.mul(ops.mul(ops.linear(x, W), R), k)));
}

test('GradScaler: scaled backward, unscaled update equal to plain SGD; overflow and NaN steps skipped on the GPU; backoff and growth', async () => {
  const r = rng(11);
  const w0 = Float32Array.from(r.uniform(4 * 6));
  const xs = tensor(Float32Array.from(r.uniform(3 * 6)), [3, 6]);
  const R = tensor(Float32Array.from(r.uniform(3 * 4)), [3, 4]);
  const W = tensor(w0, [4, 6], { requiresGrad: true });
  const W2 = tensor(w0, [4, 6], { requiresGrad: true }); // the twin trained without a scaler
  const opt = new optim.SGD([W], { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
  const opt2 = new optim.SGD([W2], { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
  const scaler = new amp.GradScaler({ initScale: 1024, growthInterval: 3 });
  const run = (k) => scope(() => {
    opt.zeroGrad();
    scaler.scale(lossOf(W, xs, R, k)).backward();
    scaler.step(opt);
    scaler.update();
  });
  const plain = () => scope(() => {
    opt2.zeroGrad();
    lossOf(W2, xs, R).backward();
    opt2.step();
  });
  // step 1: a scale of 1024 (a power of two) changes nothing but the exponent
  run(1); plain();
  assertClose(await W.read(), await W2.read(), { rtol: 1e-6, atol: 1e-7, what: 'step 1 with scaling = without' });
  let s = await scaler.stats();
  assert.equal(s, { scale: 1024, growthTracker: 1, skippedSteps: 0, steps: 1 });
  // step 2: a gradient of ~1e32 · 1024 overflows f16 (and f32): skipped, scale halved
  const before = await W.read();
  run(1e32);
  assert.equal(Array.from(await W.read()), Array.from(before), 'overflowed step left the weights as they were');
  s = await scaler.stats();
  assert.equal(s, { scale: 512, growthTracker: 0, skippedSteps: 1, steps: 2 });
  // the momentum was not touched either: the next clean steps match the twin's exactly
  run(1); plain();
  run(1); plain();
  assertClose(await W.read(), await W2.read(), { rtol: 1e-6, atol: 1e-7, what: 'after the skipped step' });
  // NaN in the loss: skipped too
  run(NaN);
  s = await scaler.stats();
  assert.is(s.skippedSteps, 2);
  assert.is(s.scale, 256);
  // growth: 3 clean steps in a row double the scale
  for (let i = 0; i < 3; i++) { run(1); plain(); }
  s = await scaler.stats();
  assert.is(s.scale, 512, 'grew after growthInterval clean steps');
  assert.is(await scaler.getScale(), 512);
  assertClose(await W.read(), await W2.read(), { rtol: 1e-5, atol: 1e-6, what: 'after growth' });
  // the check tests the unscaled gradient (as torch): at a scale of 2^-120, gradients of ~1e4
  // (finite in f16 and f32) are ~1e40 once divided, beyond f32: skipped, not applied as Infinity
  const tiny = new amp.GradScaler({ initScale: 2 ** -120 });
  const wBefore = await W.read();
  scope(() => {
    opt.zeroGrad();
    lossOf(W, xs, R, 1e4).backward();
  });
  assert.ok((await W.grad.read()).every(Number.isFinite), 'the gradients themselves are finite');
  tiny.step(opt);
  tiny.update();
  assert.equal(Array.from(await W.read()), Array.from(wBefore), 'an update that would be Infinity once unscaled was skipped');
  assert.is((await tiny.stats()).skippedSteps, 1);
  tiny.dispose();
  // state round trip
  const st = await scaler.stateDict();
  const other = new amp.GradScaler();
  other.loadStateDict(st);
  assert.equal(await other.stats(), { scale: 512, growthTracker: 0, skippedSteps: 2, steps: 8 });
  for (const t of [xs, R]) t.dispose();
  opt.dispose(); opt2.dispose(); scaler.dispose(); other.dispose();
});

test('GradScaler: unscale() before step (gradients readable unscaled), misuse errors, disabled scaler, options', async () => {
  const r = rng(12);
  const xs = tensor(Float32Array.from(r.uniform(2 * 5)), [2, 5]);
  const R = tensor(Float32Array.from(r.uniform(2 * 3)), [2, 3]);
  const W = tensor(Float32Array.from(r.uniform(15)), [3, 5], { requiresGrad: true });
  const opt = new optim.SGD([W], { lr: 0.5 });
  const scaler = new amp.GradScaler({ initScale: 2 ** 10 });
  // the plain gradient, for reference
  scope(() => { opt.zeroGrad(); lossOf(W, xs, R).backward(); });
  const g = await W.grad.read();
  const w0 = await W.read();
  scope(() => { opt.zeroGrad(); scaler.scale(lossOf(W, xs, R)).backward(); });
  assertClose(await W.grad.read(), g.map((v) => v * 1024), { rtol: 1e-6, atol: 1e-6, what: 'scaled gradient' });
  scaler.unscale(opt);
  assertClose(await W.grad.read(), g, { rtol: 1e-6, atol: 1e-7, what: 'unscaled in place' });
  assert.throws(() => scaler.unscale(opt), /unscale\(\) was already called on this optimizer since the last update\(\)/);
  scaler.step(opt);
  assertClose(await W.read(), w0.map((v, i) => v - 0.5 * g[i]), { rtol: 1e-6, atol: 1e-6, what: 'step after unscale' });
  assert.throws(() => scaler.step(opt), /step\(\) was already called on this optimizer since the last update\(\)/);
  assert.throws(() => scaler.unscale(opt), /unscale\(\) is called before step\(\)/);
  scaler.update();
  assert.throws(() => scaler.step({}), /GradScaler.step: expects an optimizer/);
  // disabled: a pass-through
  const off = new amp.GradScaler({ enabled: false });
  const l = scope(() => lossOf(W, xs, R));
  assert.is(off.scale(l), l);
  assert.equal(await off.stats(), { scale: 1, skippedSteps: 0, steps: 0, growthTracker: 0 });
  // options
  assert.throws(() => new amp.GradScaler({ initScale: 0 }), /option 'initScale' must be a finite number > 0, got 0/);
  assert.throws(() => new amp.GradScaler({ backoffFactor: 1 }), /option 'backoffFactor' must be a number in \(0, 1\)/);
  assert.throws(() => new amp.GradScaler({ growthInterval: 1.5 }), /option 'growthInterval' must be a whole number >= 1/);
  assert.throws(() => new amp.GradScaler({ init_scale: 2 }), /unknown option 'init_scale'; options: initScale/);
  assert.throws(() => scaler.loadStateDict({ scale: -1 }), /GradScaler.loadStateDict: expected/);
  for (const t of [xs, R, l]) t.dispose();
  opt.dispose(); scaler.dispose();
});

test('loss scaling keeps gradients that f16 would flush to zero (why GradScaler exists)', async () => {
  // upstream gradients of 1e-8 are below f16's smallest subnormal (6e-8): without a scale the
  // backward products read zeros; with 2^16 they are ~6.6e-4, well inside f16's range
  const r = rng(13);
  const x = Float64Array.from(roundAll(r.uniform(4 * 8)));
  const w = Float64Array.from(roundAll(r.uniform(3 * 8)));
  const Rv = Float64Array.from(r.uniform(4 * 3, 0.5, 1)).map((v) => v * 1e-8);
  const tx = tensor(Float32Array.from(x), [4, 8]);
  const R = tensor(Float32Array.from(Rv), [4, 3]);
  const W = tensor(Float32Array.from(w), [3, 8], { requiresGrad: true });
  const ref = refMatmul(Rv, x, 3, 4, 8, { transA: true });
  scope(() => lossOf(W, tx, R).backward());
  const flushed = await W.grad.read();
  assert.ok(flushed.every((v) => v === 0), `unscaled: every gradient flushed to zero (${flushed.slice(0, 4)})`);
  W.grad.dispose();
  W.grad = null;
  const scaler = new amp.GradScaler({ initScale: 2 ** 16 });
  scope(() => scaler.scale(lossOf(W, tx, R)).backward());
  const g = (await W.grad.read()).map((v) => v / 2 ** 16);
  assertMixedClose(g, ref, refMatmul(Rv.map(Math.abs), x.map(Math.abs), 3, 4, 8, { transA: true }), { rel: 2 ** -9, atol: 1e-13, what: 'scaled gradient' });
  for (const t of [tx, R, W]) t.dispose();
  scaler.dispose();
});

// ---- the trainer and the command line --------------------------------------------------------

const base = (data, out, extra = {}) => ({
  data, out, arch: 'mlp', loss: 'ce', epochs: 2, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', seed: 5, progress: 'none', logEvery: 2, log: () => {},
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  ...extra,
});

test('train precision mixed: metrics.jsonl records the loss scale and the skipped steps; accuracy near the f32 run', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 96, m: 32, h: 8, w: 8 });
  const out32 = tmp(), outMixed = tmp(), outOver = tmp();
  const s32 = await T.train(base(data, out32));
  const sm = await T.train(base(data, outMixed, { precision: 'mixed' }));
  const lines = readFileSync(join(outMixed, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(lines.length, 2);
  for (const l of lines) {
    assert.is(l.loss_scale, 65536, 'no overflow at the default scale on this model');
    assert.is(l.skipped_steps, 0);
  }
  assert.ok(Math.abs(sm.ce.top1 - s32.ce.top1) <= (100 / 32) * 3, `mixed ${sm.ce.top1} vs f32 ${s32.ce.top1} (test split of 32 images)`);
  // --resume keeps the precision: a mixed run is not continued in f32 (nor an f32 run in mixed)
  try {
    await T.train(base(data, outMixed, { resume: true }));
    assert.unreachable('resumed a mixed run in f32');
  } catch (e) {
    assert.match(e.message, /--resume: this run was started with --precision "mixed", the command now says "f32"/);
  }
  try {
    await T.train(base(data, out32, { resume: true, precision: 'mixed' }));
    assert.unreachable('resumed an f32 run in mixed');
  } catch (e) {
    assert.match(e.message, /--resume: this run was started with --precision "f32", the command now says "mixed"/);
  }
  const again = await T.train(base(data, outMixed, { resume: true, precision: 'mixed' }));
  assert.is(again.ce.top1, sm.ce.top1, 'resuming the finished mixed run with its flags gives its result');
  const f32Lines = readFileSync(join(out32, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(f32Lines.every((l) => !('loss_scale' in l)), 'f32 runs record no loss scale');
  // a start scale of 2^126 overflows the f16 gradients: those steps are skipped and counted
  // while the scale backs off (6 steps per epoch: 2^126 → 2^120 in epoch 1, until it fits)
  await T.train(base(data, outOver, { precision: 'mixed', gradScaler: { initScale: 2 ** 126 } }));
  const over = readFileSync(join(outOver, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(over[0].skipped_steps, 6, `epoch 1 skipped every step: ${JSON.stringify(over[0])}`);
  assert.is(over[0].loss_scale, 2 ** 120);
  assert.ok(over[1].skipped_steps > 0 && over[1].skipped_steps <= 6 && over[1].loss_scale < 2 ** 120, `epoch 2: ${JSON.stringify(over[1])}`);
});

test('without shader-f16: autocast, f16 tensors and --precision mixed fail naming the feature (exit 2 for the CLI)', async () => {
  const had = gpu().features.has('shader-f16');
  gpu().features.delete('shader-f16');
  try {
    assert.is(amp.isAvailable(), false);
    assert.throws(() => amp.autocast(() => 1), /autocast: mixed precision needs the adapter feature 'shader-f16', which this adapter \(.*\) does not offer; use f32/);
    assert.throws(() => tensor([1], [1], { dtype: 'f16' }), /tensor: dtype 'f16' needs the adapter feature 'shader-f16'/);
    assert.throws(() => scope(() => ops.cast(tensor([1], [1]), 'f16')), /cast: mixed precision needs the adapter feature 'shader-f16'/);
    const data = tmp();
    writeIdxSet(data, { n: 32, m: 16, h: 8, w: 8 });
    try {
      await T.train(base(data, tmp(), { precision: 'mixed' }));
      assert.unreachable('should refuse');
    } catch (e) {
      assert.instance(e, lib.ArgError);
      assert.match(e.message, /focusnet train: --precision mixed needs the adapter feature 'shader-f16'.*use --precision f32/);
    }
  } finally {
    if (had) gpu().features.add('shader-f16');
  }
  const data = tmp();
  writeIdxSet(data, { n: 32, m: 16, h: 8, w: 8 });
  const cli = (args, env = {}) => spawnSync(process.execPath, [join(distDir, 'cli.js'), 'train', '--data', data, '--arch', 'mlp', '--loss', 'ce', '--out', tmp(), '--force', '--progress', 'none', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const r = cli(['--precision', 'mixed'], { FOCUSNET_DISABLE_FEATURES: 'shader-f16' });
  assert.is(r.status, 2, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /--precision mixed needs the adapter feature 'shader-f16'/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  const bad = cli(['--precision', 'half']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--precision "half": expected one of f32, mixed/);
});

test.run();
