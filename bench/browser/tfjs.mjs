// TensorFlow.js's side of the browser benchmark, run in the page on TF.js's WebGPU backend.
// window.tfjsBench = { ready, setupLenet(batch), setupFocusLoss(B, N), steps(n), teardown(), checkFocusLoss() }
// setup* prepares one case (model, optimizer, fixed inputs); steps(n) runs n synced steps of it
// and returns their wall-clock ms and losses; the runner times warm-up and timed steps as separate
// calls, so it can count the browser's CPU time of the timed ones alone. Every step ends in a sync
// that counts GPU time: reading the (scalar) loss makes TF.js submit everything it has encoded,
// then queue.onSubmittedWorkDone() waits for all of it.
/* global tf */

/** n values uniform in [-scale, scale): the LCG of bench/common.mjs's rand, so inputs match the Node benches. */
function rand(n, seed, scale = 3) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

/** Wait for the loss and for all GPU work submitted before it. */
async function sync(loss) {
  const v = (await loss.data())[0];
  await tf.backend().queue.onSubmittedWorkDone();
  return v;
}

let current = null; // { step: () => loss tensor, dispose: () => void }

/** Run the current case's step n times, each synced: { ms: [...], losses: [...] }. */
async function steps(n) {
  const ms = [];
  const losses = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const l = current.step();
    losses.push(await sync(l));
    ms.push(performance.now() - t0);
    l.dispose();
  }
  return { ms, losses };
}

function teardown() {
  current?.dispose();
  current = null;
}

// ---- LeNet-5, NHWC (TF.js's native layout), fused conv/matmul + bias + ReLU (what tf.layers uses) ----

function lenetParams() {
  let seed = 1;
  const he = (shape, fanIn) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed++));
  const zeros = (n) => tf.variable(tf.zeros([n]));
  return {
    c1w: he([5, 5, 1, 6], 25), c1b: zeros(6),
    c2w: he([5, 5, 6, 16], 150), c2b: zeros(16),
    f1w: he([400, 120], 400), f1b: zeros(120),
    f2w: he([120, 84], 120), f2b: zeros(84),
    f3w: he([84, 10], 84), f3b: zeros(10),
  };
}

function lenetLogits(p, x) {
  // conv 1→6 5×5 pad 2 ('same' at stride 1) + ReLU, maxpool 2; conv 6→16 5×5 + ReLU, maxpool 2
  let h = tf.fused.conv2d({ x, filter: p.c1w, strides: 1, pad: 'same', bias: p.c1b, activation: 'relu' });
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.fused.conv2d({ x: h, filter: p.c2w, strides: 1, pad: 'valid', bias: p.c2b, activation: 'relu' });
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.reshape(h, [x.shape[0], 400]);
  h = tf.fused.matMul({ a: h, b: p.f1w, bias: p.f1b, activation: 'relu' });
  h = tf.fused.matMul({ a: h, b: p.f2w, bias: p.f2b, activation: 'relu' });
  return tf.fused.matMul({ a: h, b: p.f3w, bias: p.f3b });
}

/**
 * Prepare LeNet-5 training steps on a fixed random batch of 28×28 images (softmax cross-entropy,
 * SGD lr 0.01 with momentum 0.9): { params, outShape } for the runner to check.
 */
function setupLenet(batch) {
  teardown();
  const p = lenetParams();
  const vars = Object.values(p);
  const x = tf.tensor4d(rand(batch * 784, 11, 1).map((v) => (v + 1) / 2), [batch, 28, 28, 1]);
  const labels = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10), 'int32');
  const y = tf.oneHot(labels, 10).toFloat();
  const opt = tf.train.momentum(0.01, 0.9);
  current = {
    step: () => opt.minimize(() => tf.losses.softmaxCrossEntropy(y, lenetLogits(p, x)), true, vars),
    dispose: () => { for (const t of [...vars, x, labels, y]) t.dispose(); opt.dispose(); },
  };
  const outShape = tf.tidy(() => lenetLogits(p, x).shape);
  return { params: vars.reduce((n, v) => n + v.size, 0), outShape }; // LeNet-5: 61,706
}

// ---- the focus-picking loss, composed from TF.js ops (design.md, "The method"; paper's warm rule) ----

/** Mean over the batch of Lcls + α·Ratt − β·Rent, as a function of the FocusNet logits z. */
function focusPickingLoss(z, zb, y, { alpha = 1, beta = 1 } = {}) {
  const logp = tf.logSoftmax(z);
  const p = tf.exp(logp);
  const pb = tf.softmax(zb);
  const warm = tf.minimum(tf.add(tf.cast(tf.greater(zb, 0), 'float32'), y), 1); // l'' = min(1, [zb > 0] + y)
  const l = tf.div(warm, tf.sum(warm, 1, true));
  const u = tf.add(z, tf.sub(p, pb)); // re-weighted logits: the gradient flows through p
  const lcls = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(u)), 1));
  const ratt = tf.neg(tf.sum(tf.mul(l, logp), 1));
  const rent = tf.neg(tf.sum(tf.mul(p, logp), 1));
  return tf.mean(tf.sub(tf.add(lcls, tf.mul(ratt, alpha)), tf.mul(rent, beta)));
}

function focusInputs(B, N) {
  const z = tf.tensor2d(rand(B * N, 1), [B, N]);
  const zb = tf.tensor2d(rand(B * N, 2), [B, N]);
  const labels = tf.tensor1d(Int32Array.from({ length: B }, (_, i) => (i * 7919) % N), 'int32');
  const y = tf.oneHot(labels, N).toFloat();
  labels.dispose();
  return { z, zb, y };
}

/** Prepare forward + backward calls of the composed loss at (B, N), dL/dz by tf.valueAndGrad. */
function setupFocusLoss(B, N) {
  teardown();
  const { z, zb, y } = focusInputs(B, N);
  const vg = tf.valueAndGrad((zz) => focusPickingLoss(zz, zb, y));
  current = {
    step: () => { const { value, grad } = vg(z); grad.dispose(); return value; },
    dispose: () => { for (const t of [z, zb, y]) t.dispose(); },
  };
  return { B, N };
}

/**
 * The composed loss and its gradient against a float64 reference of the closed form in
 * design.md (dL/dz = g + p⊙g − p(p·g) + α(p − l) + β p⊙(log p + H(p)), over B), on a small
 * awkward shape with large logits: { lossErr, gradErr, gradScale } (absolute errors).
 */
async function checkFocusLoss(B = 5, N = 13) {
  const zs = rand(B * N, 7, 20);
  const zbs = rand(B * N, 8, 4);
  const t = Array.from({ length: B }, (_, i) => (i * 5 + 3) % N);
  const z = tf.tensor2d(zs, [B, N]);
  const zb = tf.tensor2d(zbs, [B, N]);
  const y = tf.oneHot(tf.tensor1d(t, 'int32'), N).toFloat();
  const { value, grad } = tf.valueAndGrad((zz) => focusPickingLoss(zz, zb, y))(z);
  const got = { loss: (await value.data())[0], grad: await grad.data() };
  for (const x of [z, zb, y, value, grad]) x.dispose();

  const logSoftmax = (row) => { const m = Math.max(...row); const lse = Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)); return row.map((v) => v - m - lse); };
  let loss = 0;
  const ref = new Float64Array(B * N);
  for (let b = 0; b < B; b++) {
    const zr = Array.from(zs.subarray(b * N, (b + 1) * N));
    const zbr = Array.from(zbs.subarray(b * N, (b + 1) * N));
    const logp = logSoftmax(zr);
    const p = logp.map(Math.exp);
    const pb = logSoftmax(zbr).map(Math.exp);
    const yv = zr.map((_, n) => (n === t[b] ? 1 : 0));
    const warm = zbr.map((v, n) => Math.min(1, (v > 0 ? 1 : 0) + yv[n]));
    const ws = warm.reduce((s, v) => s + v, 0);
    const l = warm.map((v) => v / ws);
    const logq = logSoftmax(zr.map((v, n) => v + p[n] - pb[n]));
    const H = -p.reduce((s, v, n) => s + v * logp[n], 0);
    loss += (-logq[t[b]] - l.reduce((s, v, n) => s + v * logp[n], 0) - H) / B;
    const g = logq.map((v, n) => Math.exp(v) - yv[n]);
    const pg = p.reduce((s, v, n) => s + v * g[n], 0);
    for (let n = 0; n < N; n++) ref[b * N + n] = (g[n] + p[n] * g[n] - p[n] * pg + (p[n] - l[n]) + p[n] * (logp[n] + H)) / B;
  }
  let gradErr = 0;
  let gradScale = 0;
  for (let i = 0; i < B * N; i++) { gradErr = Math.max(gradErr, Math.abs(got.grad[i] - ref[i])); gradScale = Math.max(gradScale, Math.abs(ref[i])); }
  return { lossErr: Math.abs(got.loss - loss), gradErr, gradScale, loss };
}

async function start() {
  await tf.setBackend('webgpu');
  await tf.ready();
  const flags = {};
  for (const f of ['WEBGPU_CPU_FORWARD', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 'WEBGPU_MATMUL_PROGRAM_TYPE']) flags[f] = tf.env().get(f);
  const a = tf.backend().adapterInfo;
  return { version: tf.version.tfjs, backend: tf.getBackend(), flags, adapter: a ? { vendor: a.vendor, architecture: a.architecture } : null };
}

window.tfjsBench = { ready: start(), setupLenet, setupFocusLoss, steps, teardown, checkFocusLoss };
window.tfjsBench.ready.then((info) => { window.tfjsBench.info = info; document.getElementById('status').textContent = `TF.js ${info.version} on ${info.backend}`; });
