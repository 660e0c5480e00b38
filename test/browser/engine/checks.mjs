// The engine's checks, run in the page on the browser's WebGPU adapter with focusnet's browser
// build, against the same float64 references the Node suite uses (test/helpers/*ref*.mjs,
// loaded as they are). window.engineChecks = { ready, matmul, conv, batchnorm, focusLoss,
// checkpoint(base), train(base, steps) }: each throws (uvu's assertion message) on the first
// disagreement and otherwise returns what it checked; test/browser-engine.test.mjs calls them.
import lib, { tensor, ops, scope, gpu, tuning, internal } from '/helpers/lib.mjs';
import { rng, size, assertClose, checkGrad, refMatmul, refBmm } from '/helpers/ref.mjs';
import { conv2dRef, conv2dGradRef, actOf, actMask } from '/helpers/conv-ref.mjs';
import { bnStats, bnTrain, runningUpdate, dotW } from '/helpers/norm-ref.mjs';
import { focusRef } from '/helpers/loss-ref.mjs';
import { dispatched } from '/helpers/dispatches.mjs';
import { trainSteps } from '/helpers/train-steps.mjs';

const { losses, data, train, models } = lib;
const f32 = (a) => Float64Array.from(Float32Array.from(a));
const labelsOf = async (fn) => [...new Set((await dispatched(fn)).labels)];

/** matmulRaw in every variant the adapter has, every transpose form, awkward sizes; batched; gradients by finite differences. */
async function matmul() {
  const variants = tuning.availableMatmulVariants();
  const sizes = [[1, 1, 1], [33, 65, 17], [64, 32, 64], [70, 3, 129], [5, 1, 9]];
  const kernels = new Set();
  for (const variant of variants) {
    const r = rng(variant.length + 1);
    const ran = await labelsOf(async () => {
      for (const [m, k, n] of sizes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const a = f32(r.uniform(m * k));
            const b = f32(r.uniform(k * n));
            const ta = tensor(Float32Array.from(a), transA ? [k, m] : [m, k]);
            const tb = tensor(Float32Array.from(b), transB ? [n, k] : [k, n]);
            const c = internal.matmulRaw(ta, tb, { transA, transB, variant });
            assertClose(await c.read(), refMatmul(a, b, m, k, n, { transA, transB }), { rtol: 1e-5, atol: 2e-6 * Math.sqrt(k) + 1e-6, what: `${variant} ${m}x${k}x${n} tA=${transA} tB=${transB}` });
            for (const t of [ta, tb, c]) t.dispose();
          }
        }
      }
    });
    const products = ran.filter((l) => l.startsWith('matmul(') && l !== 'matmul(transpose)');
    if (!products.length || products.some((l) => !l.startsWith(`matmul(${variant}`))) throw new Error(`${variant}: the kernels that ran were ${ran.join(', ')}`);
    products.forEach((l) => kernels.add(l));
  }
  // batched [B, m, k] · [k, n] (a broadcast operand), through ops.matmul
  const r = rng(9);
  const [B, m, k, n] = [3, 17, 33, 9];
  const a = f32(r.uniform(B * m * k));
  const b = f32(r.uniform(k * n));
  const ta = tensor(Float32Array.from(a), [B, m, k]);
  const tb = tensor(Float32Array.from(b), [k, n]);
  const c = ops.matmul(ta, tb);
  assertClose(await c.read(), refBmm(a, B, b, 1, m, k, n), { rtol: 1e-5, atol: 2e-5, what: 'batched matmul, broadcast right operand' });
  for (const t of [ta, tb, c]) t.dispose();
  // gradients of sum(R ⊙ (A·B)) by finite differences of the float64 reference
  const [gm, gk, gn] = [5, 7, 3];
  const R = r.uniform(gm * gn);
  const tR = tensor(Float32Array.from(R), [gm, gn]);
  await checkGrad({
    inputs: [r.uniform(gm * gk), r.uniform(gk * gn)],
    shapes: [[gm, gk], [gk, gn]],
    engine: (x, y) => ops.sum(ops.mul(ops.matmul(x, y), tR)),
    ref: (x, y) => refMatmul(x, y, gm, gk, gn).reduce((s, v, i) => s + v * R[i], 0),
    what: 'matmul gradients',
  });
  tR.dispose();
  return { variants, kernels: [...kernels] };
}

/** conv2d forward and the input, weight and bias gradients of Σ R·y against the float64 reference. */
async function compareConv(name, xs, ws, { bias = true, seed = 1, wscale = 0.5, ...opts } = {}) {
  const r = rng(seed);
  const x = f32(r.uniform(size(xs)));
  const w = f32(r.uniform(size(ws), -wscale, wscale));
  const b = bias ? f32(r.uniform(ws[0])) : null;
  const y = conv2dRef(x, xs, w, ws, b, opts);
  const act = actOf(opts);
  const R = f32(r.uniform(y.length));
  const tx = tensor(Float32Array.from(x), xs, { requiresGrad: true });
  const tw = tensor(Float32Array.from(w), ws, { requiresGrad: true });
  const tb = b ? tensor(Float32Array.from(b), [ws[0]], { requiresGrad: true }) : null;
  const [ty, loss] = scope(() => {
    const out = ops.conv2d(tx, tw, tb, opts);
    return [out, ops.sum(ops.mul(out, tensor(Float32Array.from(R), out.shape)))];
  });
  assertClose(await ty.read(), y, { rtol: 2e-4, atol: 2e-4, what: `${name}: forward` });
  loss.backward();
  const ref = conv2dGradRef(actMask(R, y, act), x, xs, w, ws, opts);
  const k = Math.max(1, wscale / 0.5);
  assertClose(await tx.grad.read(), ref.gx, { rtol: 2e-4, atol: 2e-4 * k, what: `${name}: d/dx` });
  assertClose(await tw.grad.read(), ref.gw, { rtol: 2e-4, atol: 5e-4 * k, what: `${name}: d/dw` });
  if (tb) assertClose(await tb.grad.read(), ref.gb, { rtol: 2e-4, atol: 5e-4 * k, what: `${name}: d/db` });
  for (const t of [tx, tw, tb, ty, loss]) t?.dispose();
}

async function conv() {
  const cases = [
    ['3x3 pad 1 relu, odd sizes', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, act: 'relu', seed: 6 }],
    ['5x5 LeNet conv2', [2, 6, 12, 12], [16, 6, 5, 5], { act: 'relu', seed: 10 }],
    ['3x3 stride 2 pad 1, no bias', [2, 5, 9, 7], [6, 5, 3, 3], { stride: 2, padding: 1, bias: false, seed: 11 }],
    ['3x2 stride [2,1] pad [0,2] relu6', [2, 3, 7, 5], [5, 3, 3, 2], { stride: [2, 1], padding: [0, 2], act: 'relu6', wscale: 4, seed: 14 }],
    ['grouped, groups 2', [2, 4, 6, 7], [6, 2, 3, 3], { padding: 1, groups: 2, seed: 21 }],
  ];
  const depthwise = [
    ['depthwise 3x3 s1', [2, 6, 7, 9], [6, 1, 3, 3], { padding: 1, groups: 6, bias: false, seed: 15 }],
    ['depthwise 3x3 s2 relu', [2, 5, 9, 8], [5, 1, 3, 3], { stride: 2, padding: 1, groups: 5, act: 'relu', seed: 16 }],
    ['depthwise 5x5 s2 relu6', [1, 4, 9, 9], [4, 1, 5, 5], { stride: 2, padding: 2, groups: 4, act: 'relu6', wscale: 4, seed: 20 }],
  ];
  const all = await labelsOf(async () => {
    for (const [name, xs, ws, o] of cases) await compareConv(name, xs, ws, o);
  });
  const dw = await labelsOf(async () => {
    for (const [name, xs, ws, o] of depthwise) await compareConv(name, xs, ws, o);
  });
  for (const k of ['conv2d_dw_forward', 'conv2d_dw_weight_grad']) if (!dw.includes(k)) throw new Error(`depthwise: ${k} did not run (${dw.join(', ')})`);
  return { cases: cases.length + depthwise.length, kernels: [...new Set([...all, ...dw])].filter((l) => l.startsWith('conv2d') || l.startsWith('matmul')) };
}

/** Training-mode batchnorm: output and running statistics, and gradients by finite differences. */
async function batchnorm() {
  const shapes = [[2, 5, 3, 7], [3, 6, 4, 4]];
  for (const [i, shape] of shapes.entries()) {
    const r = rng(1 + i);
    const C = shape[1];
    const act = i ? 'relu' : 'none';
    const momentum = 0.1 + 0.2 * i;
    const x = f32(Array.from(r.randn(size(shape), 2), (v) => v + 0.5));
    const gamma = f32(r.uniform(C, 0.5, 2));
    const beta = f32(r.uniform(C, -1, 1));
    const rm0 = f32(r.uniform(C, -1, 1));
    const rv0 = f32(r.uniform(C, 0.5, 2));
    const [tx, tg, tb] = [tensor(Float32Array.from(x), shape), tensor(Float32Array.from(gamma), [C]), tensor(Float32Array.from(beta), [C])];
    const rm = tensor(Float32Array.from(rm0), [C]);
    const rv = tensor(Float32Array.from(rv0), [C]);
    const y = ops.batchNorm2d(tx, tg, tb, rm, rv, { training: true, momentum, act });
    assertClose(await y.read(), bnTrain(x, shape, gamma, beta, 1e-5, act), { rtol: 1e-4, atol: 1e-4, what: `batchNorm2d ${shape} ${act}: output` });
    const upd = runningUpdate(rm0, rv0, bnStats(x, shape), momentum);
    assertClose(await rm.read(), upd.mean, { rtol: 1e-5, atol: 1e-6, what: 'running mean' });
    assertClose(await rv.read(), upd.var, { rtol: 1e-4, atol: 1e-6, what: 'running var' });
    for (const t of [tx, tg, tb, y]) t.dispose();
    // d/dx, d/dgamma, d/dbeta of Σ W·bn(x)
    const W = r.uniform(size(shape), -1, 1);
    const tW = tensor(Float32Array.from(W), shape);
    await checkGrad({
      inputs: [r.randn(size(shape), 1.5), r.uniform(C, 0.5, 2), r.uniform(C, -1, 1)],
      shapes: [shape, [C], [C]],
      engine: (a, g, b) => ops.sum(ops.mul(ops.batchNorm2d(a, g, b, rm, rv, { training: true, act }), tW)),
      ref: (a, g, b) => dotW(bnTrain(a, shape, g, b, 1e-5, act), W),
      rtol: 2e-3,
      atol: 2e-4,
      what: `batchNorm2d train ${act} ${shape}`,
    });
    for (const t of [tW, rm, rv]) t.dispose();
  }
  return { shapes };
}

/** The focus-picking loss, fused and composed, value and dL/dz against the float64 reference. */
async function focusLoss() {
  const cases = [
    [5, 13, {}, 20],
    [37, 100, { alpha: 0.5, beta: 2 }, 4],
    [300, 10, { rule: 'softmax', labelSmoothing: 0.1 }, 3],
  ];
  const out = [];
  for (const [B, N, opts, scale] of cases) {
    const r = rng(B + N);
    const z = f32(r.uniform(B * N, -scale, scale));
    const zb = f32(r.uniform(B * N, -4, 4));
    const labels = Int32Array.from({ length: B }, (_, i) => (i * 5 + 3) % N);
    const ref = focusRef(z, zb, labels, B, N, opts);
    const gscale = ref.grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (const impl of ['fused', 'composed']) {
      const tz = tensor(Float32Array.from(z), [B, N], { requiresGrad: true });
      const tb = tensor(Float32Array.from(zb), [B, N]);
      const tl = tensor(labels, [B], { dtype: 'i32' });
      const { result: y, labels: ran } = dispatched(() => scope(() => losses.focusPicking(tz, tb, tl, { ...opts, impl })));
      const fusedRan = ran.includes('focusPicking');
      if (fusedRan !== (impl === 'fused') || ran.includes('logSoftmax') === (impl === 'fused')) throw new Error(`${impl} (${B}, ${N}): kernels ${ran.join(', ')}`);
      assertClose([await y.item()], [ref.value], { rtol: 1e-5, atol: 1e-6, what: `focus ${impl} (${B}, ${N}) ${JSON.stringify(opts)}: value` });
      y.backward();
      assertClose(await tz.grad.read(), ref.grad, { rtol: 1e-4, atol: 1e-5 * Math.max(1, gscale), what: `focus ${impl} (${B}, ${N}): dL/dz` });
      for (const t of [y, tz, tb, tl]) t.dispose();
    }
    out.push({ B, N, value: ref.value });
  }
  return out;
}

/** The tiny IDX data set the Node side wrote, fetched from `base` and parsed in the page. */
async function fetchIdx(base) {
  const get = async (name) => {
    const res = await fetch(base + name);
    if (!res.ok) throw new Error(`${base + name}: ${res.status}`);
    return { name, bytes: new Uint8Array(await res.arrayBuffer()) };
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map(get),
  );
  return data.idxDataset({ trainImages, trainLabels, testImages, testLabels }, base);
}

/**
 * A checkpoint the CLI trained (served at `url`, named `file`): read from its bytes, built, run
 * on the test split of the data at `base` in eval mode. → { logits (flat), shape, top1, arch,
 * kind, damaged } (damaged: what a truncated copy throws).
 */
async function checkpoint(base, url, file) {
  const ds = await fetchIdx(base);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ck = train.checkpointFromBytes(bytes, file);
  const { test } = ds;
  const model = train.modelFromCheckpoint(ck, { arch: ck.info.arch, numClasses: ds.numClasses, inChannels: test.c, imageSize: test.h, matchClasses: true });
  const loader = new data.Loader(test, { batchSize: test.n, shuffle: false, norm: ck.info.norm });
  loader.startEpoch(0, 0);
  const x = tensor(loader.batch(0).x, [test.n, test.c, test.h, test.w]);
  const z = lib.noGrad(() => model.forward(x));
  const logits = Array.from(await z.read());
  const acc = new train.MetricAccumulator();
  const ev = await train.evaluate(model, new data.Loader(test, { batchSize: 7, shuffle: false, norm: ck.info.norm }), acc);
  acc.dispose();
  for (const t of [x, z]) t.dispose();
  model.dispose();
  let damaged = null;
  try {
    train.checkpointFromBytes(bytes.subarray(0, bytes.length - 100), file);
  } catch (e) {
    damaged = { name: e.name, message: e.message, isDataError: e instanceof data.DataError };
  }
  return { logits, shape: [test.n, ds.numClasses], top1: ev.top1, arch: ck.info.arch, kind: ck.info.kind, damaged };
}

/** test/helpers/train-steps.mjs on the served data: the same steps Node runs. */
async function trainInPage(base, steps) {
  return trainSteps(lib, await fetchIdx(base), steps);
}

async function start() {
  const info = gpu().info;
  document.getElementById('status').textContent = `focusnet on ${info.vendor} ${info.architecture}`;
  return { info, platform: 'browser', models: Object.keys(models).length };
}

window.engineChecks = { ready: start(), matmul, conv, batchnorm, focusLoss, checkpoint, train: trainInPage };
