// ops.batchNorm2d against float64 references and finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, scope, gpu } from './helpers/lib.mjs';
import { rng, assertClose, checkGrad, size } from './helpers/ref.mjs';
import { bnStats, bnApply, bnTrain, runningUpdate, dotW } from './helpers/norm-ref.mjs';
import { dispatched } from './helpers/dispatches.mjs';

const labelsOf = async (fn) => (await dispatched(fn)).labels;

const f32 = (a) => Float64Array.from(Float32Array.from(a));

/** The labels of the dispatches `fn` issues. */

/**
 * Assert that the elementwise passes (normalize, grad_input) ran with width `ew` only and the
 * partial passes (stats, grad_partial) with width `partial` only; `passes` lists the passes that
 * must appear.
 */
function assertWidths(labels, { ew, partial, passes }) {
  const widthOf = (l) => /\((v1|v4|x)\)$/.exec(l)?.[1];
  for (const l of labels.filter((l) => /^batchnorm_(normalize|grad_input)\(/.test(l))) assert.is(widthOf(l), ew, `${l} (expected width ${ew}): ${labels.join()}`);
  for (const l of labels.filter((l) => /^batchnorm_(stats|grad_partial)\(/.test(l))) assert.is(widthOf(l), partial, `${l} (expected width ${partial}): ${labels.join()}`);
  for (const pass of passes) {
    const w = /normalize|grad_input/.test(pass) ? ew : partial;
    assert.ok(labels.includes(`batchnorm_${pass}(${w})`), `batchnorm_${pass}(${w}) did not run: ${labels.join()}`);
  }
}

/** Run `fn` with FOCUSNET_BN_LAYOUT set to `layout` ('cpu' or 'gpu'). */
async function withLayout(layout, fn) {
  const prev = process.env.FOCUSNET_BN_LAYOUT;
  process.env.FOCUSNET_BN_LAYOUT = layout;
  try {
    await fn();
  } finally {
    if (prev === undefined) delete process.env.FOCUSNET_BN_LAYOUT;
    else process.env.FOCUSNET_BN_LAYOUT = prev;
  }
}

/** Run training-mode batchnorm on the engine and compare output and running stats with float64. */
async function checkTrain(shape, { seed = 1, scale = 2, offset = 0.5, act = 'none', momentum = 0.1, affine = true, rtol = 1e-4, atol = 1e-4 } = {}) {
  const r = rng(seed);
  const C = shape[1];
  const x = f32(Array.from(r.randn(size(shape), scale), (v) => v + offset));
  const gamma = affine ? f32(r.uniform(C, 0.5, 2)) : null;
  const beta = affine ? f32(r.uniform(C, -1, 1)) : null;
  const rm0 = f32(r.uniform(C, -1, 1));
  const rv0 = f32(r.uniform(C, 0.5, 2));
  const tx = tensor(Float32Array.from(x), shape);
  const tg = gamma && tensor(Float32Array.from(gamma), [C]);
  const tb = beta && tensor(Float32Array.from(beta), [C]);
  const rm = tensor(Float32Array.from(rm0), [C]);
  const rv = tensor(Float32Array.from(rv0), [C]);
  const y = ops.batchNorm2d(tx, tg, tb, rm, rv, { training: true, momentum, act });
  const ref = bnTrain(x, shape, gamma, beta, 1e-5, act);
  assertClose(await y.read(), ref, { rtol, atol, what: `batchNorm2d ${JSON.stringify(shape)} ${act} output` });
  const upd = runningUpdate(rm0, rv0, bnStats(x, shape), momentum);
  assertClose(await rm.read(), upd.mean, { rtol: 1e-5, atol: 1e-6, what: 'running mean' });
  assertClose(await rv.read(), upd.var, { rtol: 1e-4, atol: 1e-6, what: 'running var' });
  for (const t of [tx, tg, tb, rm, rv, y]) t?.dispose();
}

test('scalar units: training forward and backward, H*W and N*C*H*W not multiples of 4', async () => {
  const labels = await labelsOf(async () => {
    await checkTrain([2, 5, 3, 7]);
    await gradCase([1, 3, 3, 3], { seed: 46 });
  });
  assertWidths(labels, { ew: 'v1', partial: 'v1', passes: ['stats', 'normalize', 'grad_partial', 'grad_input'] });
});

test('vec4 units: training forward and backward, H*W % 4 == 0, C = 6', async () => {
  const labels = await labelsOf(async () => {
    await checkTrain([3, 6, 4, 4], { seed: 2, momentum: 0.3 });
    await gradCase([2, 3, 4, 4], { seed: 47, act: 'relu' });
  });
  assertWidths(labels, { ew: 'v4', partial: 'v4', passes: ['stats', 'normalize', 'grad_partial', 'grad_input'] });
});

test('training forward, affine = false', async () => {
  await checkTrain([2, 3, 5, 5], { seed: 3, affine: false });
});

test('batch 1 with a large H*W [1, 3, 300, 301]', async () => {
  await checkTrain([1, 3, 300, 301], { seed: 4, scale: 3, offset: -2 });
});

test('large batch of 1x1 maps [4096, 5, 1, 1]', async () => {
  await checkTrain([4096, 5, 1, 1], { seed: 5 });
});

test('odd H*W with many partial chunks [3, 7, 61, 59]', async () => {
  await checkTrain([3, 7, 61, 59], { seed: 6 });
});

test('H*W not a multiple of 4 but N*C*H*W is (vec4 units straddling channels): 7x7, 5x5, 3x3', async () => {
  const labels = await labelsOf(async () => {
    await checkTrain([4, 3, 7, 7], { seed: 40 });
    await checkTrain([2, 6, 5, 5], { seed: 41, act: 'relu6' });
    await checkTrain([4, 5, 3, 3], { seed: 42, act: 'relu' });
    await gradCase([2, 2, 3, 3], { seed: 43 });
    await gradCase([2, 2, 5, 5], { seed: 44, act: 'relu6', gScale: [3, 5], bRange: [1, 4] });
    await gradCase([4, 1, 3, 3], { seed: 45, training: false });
  });
  // the elementwise passes take the straddling vec4 kernels; the partial passes scalar units
  assertWidths(labels, { ew: 'x', partial: 'v1', passes: ['stats', 'normalize', 'grad_partial', 'grad_input'] });
});

test('mean 1000, std 0.01 over 360,000 values per channel: statistics stay exact', async () => {
  const shape = [4, 2, 300, 300];
  const r = rng(7);
  const x = f32(Array.from(r.randn(size(shape), 0.01), (v, i) => v + (Math.floor(i / 90000) % 2 ? 1000 : -250)));
  const tx = tensor(Float32Array.from(x), shape);
  const rm = tensor([0, 0], [2]);
  const rv = tensor([1, 1], [2]);
  const y = ops.batchNorm2d(tx, null, null, rm, rv, { training: true, momentum: 1 });
  const s = bnStats(x, shape);
  assertClose(await y.read(), bnApply(x, shape, s.mean, s.varBiased, null, null), { rtol: 1e-3, atol: 2e-3, what: 'normalized output' });
  assertClose(await rm.read(), s.mean, { rtol: 1e-7, atol: 0, what: 'running mean' });
  assertClose(await rv.read(), s.varUnbiased, { rtol: 1e-3, atol: 0, what: 'running var (unbiased)' });
  for (const t of [tx, rm, rv, y]) t.dispose();
});

test('two million values per channel [2, 2, 1024, 1024], mean 1000 and std 0.01', async () => {
  const shape = [2, 2, 1024, 1024];
  const r = rng(12);
  const x = new Float64Array(size(shape));
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(1000 + 0.01 * r.normal() + (Math.floor(i / 1048576) % 2) * 0.05);
  const tx = tensor(Float32Array.from(x), shape);
  const rm = tensor([0, 0], [2]);
  const rv = tensor([1, 1], [2]);
  const y = ops.batchNorm2d(tx, null, null, rm, rv, { training: true, momentum: 1 });
  const s = bnStats(x, shape);
  assertClose(await rm.read(), s.mean, { rtol: 1e-7, atol: 0, what: 'running mean' });
  assertClose(await rv.read(), s.varUnbiased, { rtol: 1e-3, atol: 0, what: 'running var (unbiased)' });
  assertClose(await y.read(), bnApply(x, shape, s.mean, s.varBiased, null, null), { rtol: 1e-3, atol: 2e-3, what: 'normalized output' });
  for (const t of [tx, rm, rv, y]) t.dispose();
});

test('outliers at the first position of each channel', async () => {
  const shape = [2, 2, 40, 40];
  const r = rng(13);
  const x = f32(Array.from(r.randn(size(shape), 0.001), (v) => v + 5));
  x[0] = 1000; // first value of channel 0
  x[1600] = -3000; // first value of channel 1
  const tx = tensor(Float32Array.from(x), shape);
  const y = ops.batchNorm2d(tx, null, null, null, null, { training: true });
  const s = bnStats(x, shape);
  assertClose(await y.read(), bnApply(x, shape, s.mean, s.varBiased, null, null), { rtol: 1e-4, atol: 2e-3, what: 'normalized output' });
  tx.dispose(); y.dispose();
});

test('fused relu and relu6 outputs', async () => {
  await checkTrain([2, 3, 5, 6], { seed: 8, act: 'relu' });
  await checkTrain([2, 3, 4, 4], { seed: 9, act: 'relu6' });
  await checkTrain([2, 3, 3, 3], { seed: 10, act: 'relu6' });
});

test('eval mode uses the running statistics and leaves them unchanged', async () => {
  const shape = [3, 5, 3, 3];
  const r = rng(11);
  const C = 5;
  const x = f32(r.randn(size(shape), 2));
  const gamma = f32(r.uniform(C, 0.5, 2));
  const beta = f32(r.uniform(C, -1, 1));
  const rm0 = f32(r.uniform(C, -1, 1));
  const rv0 = f32(r.uniform(C, 0.5, 2));
  const [tx, tg, tb, rm, rv] = [[x, shape], [gamma, [C]], [beta, [C]], [rm0, [C]], [rv0, [C]]].map(([a, s]) => tensor(Float32Array.from(a), s));
  for (const act of ['none', 'relu6']) {
    let y;
    const labels = await labelsOf(() => { y = ops.batchNorm2d(tx, tg, tb, rm, rv, { training: false, act }); });
    assert.equal(labels.filter((l) => l.startsWith('batchnorm_')), ['batchnorm_eval_coef', 'batchnorm_normalize(v1)'], `eval ${act}: the running statistics' coefficients, no statistics pass`);
    assertClose(await y.read(), bnApply(x, shape, rm0, rv0, gamma, beta, 1e-5, act), { rtol: 1e-5, atol: 1e-5, what: `eval ${act}` });
    y.dispose();
  }
  assertClose(await rm.read(), rm0, { rtol: 0, atol: 0, what: 'running mean unchanged' });
  assertClose(await rv.read(), rv0, { rtol: 0, atol: 0, what: 'running var unchanged' });
  for (const t of [tx, tg, tb, rm, rv]) t.dispose();
});

/** Gradient of sum(w * bn(x)) with respect to x, gamma, beta by finite differences. */
async function gradCase(shape, { training = true, act = 'none', seed = 20, gScale = [0.5, 2], bRange = [-1, 1], affine = true, rm0, rv0 } = {}) {
  const r = rng(seed);
  const C = shape[1];
  const w = r.uniform(size(shape), -1, 1);
  const x = r.randn(size(shape), 1.5);
  const gamma = r.uniform(C, ...gScale);
  const beta = r.uniform(C, ...bRange);
  const rm = f32(rm0 ?? r.uniform(C, -0.5, 0.5));
  const rv = f32(rv0 ?? r.uniform(C, 0.5, 2));
  const ref = (xa, ga, ba) => {
    const y = training ? bnTrain(xa, shape, affine ? ga : null, affine ? ba : null, 1e-5, act) : bnApply(xa, shape, rm, rv, ga, ba, 1e-5, act);
    return dotW(y, w);
  };
  const tw = tensor(Float32Array.from(w), shape);
  const trm = tensor(Float32Array.from(rm), [C]);
  const trv = tensor(Float32Array.from(rv), [C]);
  await checkGrad({
    inputs: affine ? [x, gamma, beta] : [x],
    shapes: affine ? [shape, [C], [C]] : [shape],
    engine: (tx, tg, tb) => ops.sum(ops.mul(ops.batchNorm2d(tx, tg ?? null, tb ?? null, trm, trv, { training, act }), tw)),
    ref,
    rtol: 2e-3,
    atol: 2e-4,
    what: `batchNorm2d ${training ? 'train' : 'eval'} ${act} ${JSON.stringify(shape)}`,
  });
  for (const t of [tw, trm, trv]) t.dispose();
}

test('backward (training): x, gamma, beta by finite differences', async () => {
  await gradCase([2, 3, 2, 3]);
  await gradCase([3, 2, 2, 2], { seed: 21 });
});

test('backward (training), affine = false, 1x1 maps', async () => {
  await gradCase([6, 3, 1, 1], { seed: 22, affine: false });
});

test('backward with fused relu and relu6 (saved output mask)', async () => {
  await gradCase([2, 3, 3, 3], { seed: 23, act: 'relu' });
  await gradCase([2, 3, 2, 2], { seed: 24, act: 'relu6', gScale: [3, 5], bRange: [1, 4] });
});

test('backward (eval): simple affine gradient', async () => {
  await gradCase([2, 3, 2, 3], { seed: 25, training: false });
  await gradCase([2, 3, 2, 2], { seed: 26, training: false, act: 'relu6', gScale: [3, 5], bRange: [1, 4] });
});

test('gradients of a large batch of 1x1 maps match the analytic float64 gradient', async () => {
  const shape = [4096, 5, 1, 1];
  const r = rng(27);
  const C = 5;
  const x = f32(r.randn(size(shape), 1));
  const w = f32(r.uniform(size(shape), -1, 1));
  const gamma = f32(r.uniform(C, 0.5, 2));
  const tx = tensor(Float32Array.from(x), shape, { requiresGrad: true });
  const tg = tensor(Float32Array.from(gamma), [C], { requiresGrad: true });
  const tb = tensor(new Float32Array(C).fill(0.1), [C], { requiresGrad: true });
  const tw = tensor(Float32Array.from(w), shape);
  const loss = scope(() => ops.sum(ops.mul(ops.batchNorm2d(tx, tg, tb, null, null, { training: true }), tw)));
  loss.backward();
  // analytic: dx = gamma*inv/M (M w - sum w - xhat sum(w xhat)), dgamma = sum(w xhat), dbeta = sum w
  const s = bnStats(x, shape);
  const M = 4096;
  const dx = new Float64Array(x.length);
  const dg = new Float64Array(C);
  const db = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(s.varBiased[c] + 1e-5);
    let sw = 0, swx = 0;
    for (let n = 0; n < M; n++) { const k = n * C + c; sw += w[k]; swx += w[k] * (x[k] - s.mean[c]) * inv; }
    dg[c] = swx; db[c] = sw;
    for (let n = 0; n < M; n++) { const k = n * C + c; dx[k] = (gamma[c] * inv / M) * (M * w[k] - sw - (x[k] - s.mean[c]) * inv * swx); }
  }
  assertClose(await tx.grad.read(), dx, { rtol: 1e-3, atol: 1e-5, what: 'dx' });
  assertClose(await tg.grad.read(), dg, { rtol: 1e-4, atol: 1e-3, what: 'dgamma' });
  assertClose(await tb.grad.read(), db, { rtol: 1e-4, atol: 1e-3, what: 'dbeta' });
  for (const t of [tx, tg, tb, tw, loss]) t.dispose();
});

test('no buffers leak: forward + backward (no scope), training and eval, with and without act', async () => {
  const C = 3;
  const x = tensor(Float32Array.from({ length: 2 * C * 25 }, (_, i) => Math.sin(i)), [2, C, 5, 5], { requiresGrad: true });
  const gamma = tensor([1, 2, 3], [C], { requiresGrad: true });
  const rm = tensor([0, 0, 0], [C]);
  const rv = tensor([1, 1, 1], [C]);
  const step = (opts) => {
    const y = ops.batchNorm2d(x, gamma, null, rm, rv, opts);
    const loss = ops.sum(y);
    loss.backward();
    y.dispose();
    loss.dispose();
    x.grad.dispose(); x.grad = null;
    gamma.grad.dispose(); gamma.grad = null;
  };
  step({ training: true }); // warm up
  await gpu().sync();
  const before = gpu().memory().buffersInUse;
  for (const opts of [{ training: true }, { training: true, act: 'relu6' }, { training: false }, { training: false, act: 'relu' }]) step(opts);
  scope(() => { ops.batchNorm2d(x, null, null, null, null, { training: true }); }); // (an unreleased graph holds its saved tensors)
  await gpu().sync();
  assert.is(gpu().memory().buffersInUse, before, 'live buffers after the steps');
  for (const t of [x, gamma, rm, rv]) t.dispose();
});

/** The merges `labels` name: every one of `kind`, the statistics and the gradient merge among them. */
function assertMerges(labels, kind) {
  const merges = labels.filter((l) => l.includes('_merge'));
  assert.ok(merges.includes(`batchnorm_merge(${kind})`) && merges.includes(`batchnorm_grad_merge(${kind})`), merges.join());
  assert.ok(merges.every((l) => l.endsWith(`(${kind})`)), merges.join());
}

for (const [layout, kind, how] of [['gpu', 'wg', 'interleaved lanes, one unit per invocation, workgroup-per-channel merges'], ['cpu', 'serial', 'contiguous lanes, 8 units per invocation, serial merges']]) {
  test(`the ${layout.toUpperCase()} layout (${how}) gives the same results`, async () => {
    const labels = await labelsOf(() => withLayout(layout, async () => {
      await checkTrain([3, 7, 61, 59], { seed: 30 });
      await checkTrain([4096, 5, 1, 1], { seed: 31, act: 'relu6' });
      await gradCase([2, 3, 2, 3], { seed: 32 });
      await gradCase([2, 3, 4, 4], { seed: 33, act: 'relu' });
    }));
    assertMerges(labels, kind);
  });
}

test('bad input names the op and the shapes', () => {
  const x = tensor(new Float32Array(2 * 3 * 4 * 4).fill(1), [2, 3, 4, 4]);
  const x3 = tensor(new Float32Array(12).fill(1), [3, 2, 2]);
  const g4 = tensor([1, 1, 1, 1], [4]);
  const one = tensor([1, 2, 3], [1, 3, 1, 1]);
  assert.throws(() => ops.batchNorm2d(x3, null, null, null, null, { training: true }), /batchNorm2d.*rank 4.*\[3, 2, 2\]/);
  assert.throws(() => ops.batchNorm2d(x, g4, null, null, null, { training: true }), /batchNorm2d.*gamma.*\[3\].*\[2, 3, 4, 4\].*\[4\]/);
  assert.throws(() => ops.batchNorm2d(x, null, null, g4, g4, { training: false }), /batchNorm2d.*runningMean.*\[4\]/);
  assert.throws(() => ops.batchNorm2d(one, null, null, null, null, { training: true }), /batchNorm2d.*more than 1 value per channel.*\[1, 3, 1, 1\]/);
  assert.throws(() => ops.batchNorm2d(x, null, null, null, null, { training: true, act: 'gelu' }), /batchNorm2d.*activation/);
  for (const t of [x, x3, g4, one]) t.dispose();
});

test.run();
