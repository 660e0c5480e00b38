// SGD against a float64 reference of torch.optim.SGD (momentum, dampening, weight decay,
// Nesterov) over several steps; zeroGrad; gradients accumulating into the arena; arenas split
// at 64 MiB. The code paths (one update dispatch per arena, the lazy zeroGrad) are checked
// through gpu().onDispatch labels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, optim, gpu, tuning } from './helpers/lib.mjs';
import { rng, size, assertClose } from './helpers/ref.mjs';
import { dispatched } from './helpers/dispatches.mjs';

const labelsOf = (fn) => dispatched(fn).labels;

/** The labels of the dispatches `fn` makes (gpu().onDispatch). */

/** Run fn with zero fills as 'fill' dispatches (not clearBuffer, which no dispatch label shows). */
function zeroFillsVisible(fn) {
  const prev = tuning.vectorTuning.clear;
  tuning.vectorTuning.clear = false;
  return Promise.resolve().then(fn).finally(() => (tuning.vectorTuning.clear = prev));
}

/** torch.optim.SGD.step for one parameter, in float64 (state: { buf }). */
function refStep(p, g, state, { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }) {
  const d = g.map((v, i) => v + weightDecay * p[i]);
  if (momentum !== 0) {
    if (!state.buf) state.buf = Float64Array.from(d);
    else for (let i = 0; i < d.length; i++) state.buf[i] = momentum * state.buf[i] + (1 - dampening) * d[i];
    for (let i = 0; i < d.length; i++) d[i] = nesterov ? d[i] + momentum * state.buf[i] : state.buf[i];
  }
  for (let i = 0; i < p.length; i++) p[i] -= lr * d[i];
}

const SHAPES = [[3, 5], [7], [1], [65, 3]];
const CONFIGS = [
  { lr: 0.1 },
  { lr: 0.05, momentum: 0.9 },
  { lr: 0.05, momentum: 0.9, dampening: 0.3 },
  { lr: 0.02, weightDecay: 0.1 },
  { lr: 0.03, momentum: 0.5, weightDecay: 0.01, nesterov: true },
  { lr: 0.01, momentum: 0.8, dampening: 0.5, weightDecay: 0.05 },
];

for (const cfg of CONFIGS) {
  test(`SGD ${JSON.stringify(cfg)} matches torch.optim.SGD over 5 steps`, async () => {
    const r = rng(Object.keys(cfg).length * 10 + Math.round(cfg.lr * 100));
    const init = SHAPES.map((s) => Float64Array.from(Float32Array.from(r.uniform(size(s)))));
    const params = init.map((a, i) => tensor(Float32Array.from(a), SHAPES[i], { requiresGrad: true }));
    const opt = new optim.SGD(params, cfg);
    const ref = init.map((a) => Float64Array.from(a));
    const states = init.map(() => ({}));
    for (let step = 0; step < 5; step++) {
      opt.zeroGrad();
      // loss = Σ_p Σ c_p ⊙ p: the gradient of each parameter is c_p
      const cs = SHAPES.map((s) => Float64Array.from(Float32Array.from(r.uniform(size(s), -2, 2))));
      const ct = cs.map((c, i) => tensor(Float32Array.from(c), SHAPES[i]));
      let loss = null;
      for (let i = 0; i < params.length; i++) {
        const term = ops.sum(ops.mul(params[i], ct[i]));
        loss = loss ? ops.add(loss, term) : term;
      }
      loss.backward();
      loss.dispose();
      for (const t of ct) t.dispose();
      const update = labelsOf(() => opt.step());
      assert.equal(update, ['sgd_update'], 'one update dispatch for the one arena');
      for (let i = 0; i < params.length; i++) refStep(ref[i], cs[i], states[i], cfg);
    }
    for (let i = 0; i < params.length; i++) {
      assertClose(await params[i].read(), ref[i], { rtol: 1e-5, atol: 1e-6, what: `param ${i} ${JSON.stringify(SHAPES[i])}` });
    }
    assert.is(opt.stepCount, 5);
    opt.dispose();
  });
}

test('SGD: gradients accumulate into the arena until zeroGrad', async () => {
  const p = tensor([1, 2, 3], [3], { requiresGrad: true });
  // a gradient that exists before the optimizer is built is carried into the arena
  ops.sum(ops.mul(p, 2)).backward();
  const opt = new optim.SGD([p], { lr: 0.5 });
  assertClose(await p.read(), [1, 2, 3], { what: 'parameter copied into the arena' });
  assertClose(await p.grad.read(), [2, 2, 2], { what: 'existing gradient copied into the arena' });
  ops.sum(ops.square(p)).backward(); // + 2p
  assertClose(await p.grad.read(), [4, 6, 8]);
  opt.step();
  assertClose(await p.read(), [-1, -1, -1]);
  opt.zeroGrad();
  assertClose(await p.grad.read(), [0, 0, 0]);
  opt.step(); // a zero gradient leaves the parameter alone
  assertClose(await p.read(), [-1, -1, -1]);
  const before = gpu().memory().buffersInUse;
  opt.dispose();
  assert.ok(gpu().memory().buffersInUse < before, 'dispose gives the arenas back');
  assert.ok(p.disposed);
});

test('SGD: momentum state survives stateDict/loadStateDict', async () => {
  const mk = () => tensor([1, -1, 0.5, 2, 3], [5], { requiresGrad: true });
  const run = async (opt, p, steps) => {
    for (let s = 0; s < steps; s++) {
      opt.zeroGrad();
      ops.sum(ops.square(p)).backward();
      opt.step();
    }
  };
  const p1 = mk();
  const o1 = new optim.SGD([p1], { lr: 0.1, momentum: 0.9 });
  await run(o1, p1, 2);
  const state = await o1.stateDict();
  const p2 = tensor(await p1.read(), [5], { requiresGrad: true });
  const o2 = new optim.SGD([p2], { lr: 0.1, momentum: 0.9 });
  o2.loadStateDict(state);
  await run(o1, p1, 2);
  await run(o2, p2, 2);
  assertClose(await p2.read(), await p1.read(), { rtol: 0, atol: 0 });
  o1.dispose();
  o2.dispose();
});

test('SGD: zeroGrad is lazy: backward overwrites, a second backward accumulates, unused params get zero', () => zeroFillsVisible(async () => {
  const r = rng(91);
  const shapes = [[5, 4], [3], [6]];
  const init = shapes.map((s) => Float64Array.from(Float32Array.from(r.uniform(size(s), -2, 2))));
  const ps = init.map((v, i) => tensor(Float32Array.from(v), shapes[i], { requiresGrad: true }));
  const [used, unused, late] = ps;
  const cfg = { lr: 0.1, momentum: 0.9, weightDecay: 0.05 };
  const opt = new optim.SGD(ps, cfg);
  const ref = init.map((a) => Float64Array.from(a));
  const states = init.map(() => ({}));
  const cs = [0, 1, 2].map((k) => Float64Array.from(Float32Array.from(r.uniform(20, -2, 2))));
  const cts = cs.map((c) => tensor(Float32Array.from(c), [5, 4]));
  // step 1: every parameter gets a gradient, leaving stale nonzero data in the arena
  assert.equal(labelsOf(() => opt.zeroGrad()), [], 'zeroGrad dispatches nothing');
  const bwd0 = labelsOf(() => ops.sum(ops.add(ops.add(ops.sum(ops.mul(used, cts[0])), ops.sum(ops.square(unused))), ops.sum(ops.mul(late, 3)))).backward());
  assert.not.ok(bwd0.includes('accumulate'), `backward after zeroGrad overwrites (copies), no accumulate: ${bwd0.join(', ')}`);
  assert.equal(labelsOf(() => opt.step()), ['sgd_update'], 'every gradient was written: no zero fill before the update');
  refStep(ref[0], cs[0], states[0], cfg);
  refStep(ref[1], ref[1].map((v) => 2 * v), states[1], cfg);
  refStep(ref[2], new Float64Array(6).fill(3), states[2], cfg);
  // step 2: two backward calls after zeroGrad accumulate into `used`; `unused` gets none
  assert.equal(labelsOf(() => opt.zeroGrad()), [], 'zeroGrad dispatches nothing');
  const bwd1 = labelsOf(() => ops.sum(ops.mul(used, cts[1])).backward());
  assert.not.ok(bwd1.includes('accumulate') || bwd1.filter((l) => l === 'fill').length > 1, `first backward: copies the gradient in, no zero fill, no accumulate: ${bwd1.join(', ')}`);
  const bwd2 = labelsOf(() => ops.sum(ops.mul(used, cts[2])).backward());
  assert.is(bwd2.filter((l) => l === 'accumulate').length, 1, `second backward accumulates once: ${bwd2.join(', ')}`);
  assertClose(await used.grad.read(), cs[1].map((v, i) => v + cs[2][i]), { what: 'two backward calls after zeroGrad accumulate' });
  // `unused` and `late` still pending: filled with zeros (one fill each), weight decay still applies
  assert.equal(labelsOf(() => opt.step()), ['fill', 'fill', 'sgd_update'], 'the two pending gradients are zero-filled before the update');
  refStep(ref[0], cs[1].map((v, i) => v + cs[2][i]), states[0], cfg);
  refStep(ref[1], new Float64Array(3), states[1], cfg);
  refStep(ref[2], new Float64Array(6), states[2], cfg);
  for (let i = 0; i < 3; i++) assertClose(await ps[i].read(), ref[i], { rtol: 1e-5, atol: 1e-6, what: `param ${i} after step 2` });
  assertClose(await unused.grad.read(), [0, 0, 0], { what: 'a parameter unused in the step has a zero gradient' });
  // step 3: reading .grad while pending shows zeros; a backward after that accumulates on them
  opt.zeroGrad();
  let pendingGrad;
  assert.equal(labelsOf(() => (pendingGrad = late.grad)), ['fill'], 'reading .grad while pending fills it');
  assertClose(await pendingGrad.read(), new Float64Array(6), { what: '.grad reads zeros while pending' });
  ops.sum(ops.mul(late, 2)).backward();
  assertClose(await late.grad.read(), new Float64Array(6).fill(2), { what: 'backward after a pending read' });
  // step 4: no backward at all: step sees zero gradients everywhere (the whole-arena fill)
  opt.zeroGrad();
  assert.equal(labelsOf(() => opt.step()), ['fill', 'sgd_update'], 'nothing written: one fill for the whole arena');
  for (let i = 0; i < 3; i++) refStep(ref[i], new Float64Array(ref[i].length), states[i], cfg);
  // (step 3 never called step(); its gradients were dropped by the zeroGrad of step 4)
  for (let i = 0; i < 3; i++) assertClose(await ps[i].read(), ref[i], { rtol: 1e-5, atol: 1e-6, what: `param ${i} after a step without backward` });
  for (const t of cts) t.dispose();
  opt.dispose();
}));

test('SGD: arenas split at 64 MiB: one update dispatch per arena, parameters on both sides updated', async () => {
  // three parameters of 24 MiB: the first two share an arena (48 MiB), the third starts another
  const n = 6 * 1024 * 1024;
  const init = (k) => Float32Array.from({ length: n }, (_, i) => ((i * 7 + k * 13) % 1001) / 1000 - 0.5);
  const ps = [0, 1, 2].map((k) => tensor(init(k), [n], { requiresGrad: true }));
  const cfg = { lr: 0.5, momentum: 0.9 };
  const opt = new optim.SGD(ps, cfg);
  // d = 2 each step: step 1 buf = 2, w -= 1; step 2 buf = 0.9 * 2 + 2 = 3.8, w -= 1.9
  for (let step = 0; step < 2; step++) {
    opt.zeroGrad();
    ops.sum(ops.add(ops.add(ops.mul(ps[0], 2), ops.mul(ps[1], 2)), ops.mul(ps[2], 2))).backward();
    assert.equal(labelsOf(() => opt.step()), ['sgd_update', 'sgd_update'], `step ${step + 1}: one update per arena`);
  }
  const f32 = Math.fround;
  for (let k = 0; k < 3; k++) {
    const got = await ps[k].read();
    const want = init(k);
    let worst = 0;
    let at = -1;
    for (let i = 0; i < n; i++) {
      const e = Math.abs(got[i] - (want[i] - 2.9));
      if (!(e <= worst)) { worst = e; at = i; }
    }
    assert.ok(worst < 1e-6, `param ${k}: w - 2.9 off by ${worst} at ${at} (${got[at]} vs ${f32(want[at] - 2.9)})`);
  }
  const state = await opt.stateDict();
  assert.equal(state.momentum.map((m) => m.byteLength), [2 * n * 4, n * 4], 'two momentum arenas, 48 and 24 MiB');
  const buf = f32(f32(f32(0.9) * 2) + 2); // μ·buf + (1 − 0)·d in f32
  state.momentum.forEach((m, a) => assert.ok(m.every((v) => v === buf), `momentum arena ${a}: every entry ${buf}`));
  opt.dispose();
});

test('SGD: bad options throw', () => {
  const p = tensor([1], [1], { requiresGrad: true });
  assert.throws(() => new optim.SGD([p], { lr: -1 }), /SGD: lr must be a number >= 0, got -1/);
  assert.throws(() => new optim.SGD([p], { lr: 0.1, nesterov: true }), /SGD: Nesterov momentum requires a momentum > 0 and zero dampening/);
  assert.throws(() => new optim.SGD([p, p], { lr: 0.1 }), /SGD: parameter #\d+ appears twice/);
  assert.throws(() => new optim.SGD([tensor(Int32Array.from([1]), [1])], { lr: 0.1 }), /SGD: parameter #\d+ \[1\] must be f32/);
  p.dispose();
});

test.run();
