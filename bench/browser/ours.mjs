// focusnet's side of the browser benchmark, run in the page with the browser build
// (dist/browser.js) on the same adapter as TF.js (tfjs.mjs), doing the same work:
// window.oursBench = { ready, setupLenet(batch), setupFocusLoss(B, N), steps(n), teardown() }.
// Same cases, inputs and sync rule as tfjs.mjs: steps(n) runs n steps of the current case, each
// ending when the loss has been read back (which waits for every GPU command submitted before
// it: the whole forward, backward and update), and returns their wall-clock ms and losses.
import * as fn from '/dist/browser.js';

const { tensor, scope, models, losses, optim } = fn;

/** n values uniform in [-scale, scale): the LCG of bench/common.mjs and tfjs.mjs, so the inputs match. */
function rand(n, seed, scale = 3) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

let current = null; // { step: () => loss tensor, dispose: () => void }

async function steps(n) {
  const ms = [];
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const l = current.step();
    out.push(await l.item());
    ms.push(performance.now() - t0);
    l.dispose();
  }
  return { ms, losses: out };
}

function teardown() {
  current?.dispose();
  current = null;
}

/**
 * LeNet-5 (models.lenet5: conv 1→6 5×5 pad 2 + ReLU, max-pool 2, conv 6→16 5×5 + ReLU, max-pool 2,
 * fc 400→120→84→10 with ReLU; NCHW, which for one channel is TF.js's NHWC batch byte for byte),
 * cross-entropy, SGD lr 0.01 momentum 0.9, on tfjs.mjs's fixed batch. → { params, outShape }
 */
async function setupLenet(batch) {
  teardown();
  const model = models.lenet5({ numClasses: 10 }).train();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = fn.keep(tensor(rand(batch * 784, 11, 1).map((v) => (v + 1) / 2), [batch, 1, 28, 28]));
  const y = fn.keep(tensor(Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10), [batch], { dtype: 'i32' }));
  current = {
    step: () => scope(() => {
      opt.zeroGrad();
      const loss = losses.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    }),
    dispose: () => { opt.dispose(); model.dispose(); x.dispose(); y.dispose(); },
  };
  const z = fn.noGrad(() => model.forward(x));
  const outShape = [...z.shape];
  z.dispose();
  await fn.gpu().sync();
  return { params: model.numParameters(), outShape };
}

/** The fused focus-picking loss, forward + backward (dL/dz), at (B, N) on tfjs.mjs's inputs. */
async function setupFocusLoss(B, N) {
  teardown();
  const z = fn.keep(tensor(rand(B * N, 1), [B, N], { requiresGrad: true }));
  const zb = fn.keep(tensor(rand(B * N, 2), [B, N]));
  const labels = fn.keep(tensor(Int32Array.from({ length: B }, (_, i) => (i * 7919) % N), [B], { dtype: 'i32' }));
  current = {
    step: () => {
      const l = scope(() => losses.focusPicking(z, zb, labels, { impl: 'fused' }));
      l.backward();
      z.grad.dispose();
      z.grad = null;
      return l;
    },
    dispose: () => { z.dispose(); zb.dispose(); labels.dispose(); },
  };
  await fn.gpu().sync();
  return { B, N };
}

async function start() {
  await fn.init();
  const i = fn.gpu().info;
  return { adapter: { vendor: i.vendor, architecture: i.architecture }, matmulVariant: fn.tuning.matmulVariant?.() ?? null };
}

window.oursBench = { ready: start(), setupLenet, setupFocusLoss, steps, teardown };
