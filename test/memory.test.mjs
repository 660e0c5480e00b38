// 1,000+ training steps of a small MLP (linear → relu → linear → log-softmax → gather NLL,
// SGD with momentum), one scope() per step: pooled GPU bytes and buffers in use stay flat
// after warmup, the pool stops allocating, and the loss goes down.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, optim, scope, keep, gpu, internal } from './helpers/lib.mjs';
import { rng } from './helpers/ref.mjs';

const STEPS = 1200;
const WARMUP = 100;
const [B, IN, HID, OUT] = [16, 12, 24, 5];

test(`${STEPS} steps of an MLP in scope(): memory stays flat, the loss decreases`, async () => {
  // start from a submitted queue and with the garbage of earlier suites collected: a tensor they
  // dropped without dispose() must not give its buffer back half-way through the count
  await internal.settleGarbage();
  await gpu().sync();
  const r = rng(2024);
  // a fixed dataset whose labels come from a random linear teacher
  const N = 8 * B;
  const xs = Float32Array.from(r.uniform(N * IN, -1, 1));
  const teacher = r.uniform(OUT * IN);
  const ys = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let best = -Infinity;
    for (let c = 0; c < OUT; c++) {
      let s = 0;
      for (let j = 0; j < IN; j++) s += teacher[c * IN + j] * xs[i * IN + j];
      if (s > best) {
        best = s;
        ys[i] = c;
      }
    }
  }
  const param = (shape, scale) => keep(tensor(Float32Array.from(r.uniform(shape.reduce((a, b) => a * b, 1), -scale, scale)), shape, { requiresGrad: true }));
  const w1 = param([HID, IN], 1 / Math.sqrt(IN));
  const b1 = param([HID], 0.1);
  const w2 = param([OUT, HID], 1 / Math.sqrt(HID));
  const b2 = param([OUT], 0.1);
  const opt = new optim.SGD([w1, b1, w2, b2], { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });

  const step = (k, wantLoss) =>
    scope(() => {
      const off = (k % 8) * B;
      const x = tensor(xs.subarray(off * IN, (off + B) * IN), [B, IN]);
      const y = tensor(ys.subarray(off, off + B), [B]);
      const h = ops.relu(ops.linear(x, w1, b1));
      const logp = ops.logSoftmax(ops.linear(h, w2, b2));
      const loss = ops.neg(ops.mean(ops.gather(logp, y)));
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return wantLoss ? loss : undefined;
    });

  const losses = [];
  let ref = null;
  let allocAtWarmup = 0;
  const t0 = performance.now();
  for (let k = 0; k < STEPS; k++) {
    const wantLoss = k % 100 === 0 || k >= STEPS - 8;
    const loss = step(k, wantLoss);
    if (loss) {
      losses.push((await loss.read())[0]);
      loss.dispose();
    }
    const m = gpu().memory();
    if (k === WARMUP) {
      ref = m;
      allocAtWarmup = m.allocations;
    } else if (k > WARMUP) {
      if (m.bytesInUse !== ref.bytesInUse || m.buffersInUse !== ref.buffersInUse) {
        assert.unreachable(`step ${k}: ${m.bytesInUse} bytes in ${m.buffersInUse} buffers in use, ${ref.bytesInUse} in ${ref.buffersInUse} after warmup`);
      }
    }
  }
  await gpu().sync();
  const ms = performance.now() - t0;
  const end = gpu().memory();
  assert.is(end.allocations, allocAtWarmup, `the pool allocated ${end.allocations - allocAtWarmup} buffers after warmup`);
  const first = losses[0];
  const last = losses.slice(-8).reduce((a, b) => a + b, 0) / 8;
  assert.ok(Number.isFinite(last), `final loss ${last}`);
  assert.ok(last < 0.5 * first, `loss went from ${first.toFixed(4)} to ${last.toFixed(4)}`);
  console.log(`    ${STEPS} steps in ${(ms / 1000).toFixed(1)} s; loss ${first.toFixed(3)} → ${last.toFixed(3)}; ${ref.buffersInUse} buffers / ${ref.bytesInUse} bytes in use; ${end.allocations} allocations`);
  opt.dispose();
});

test('a long run of dispatches without readbacks recycles buffers (early submit)', async () => {
  await internal.settleGarbage();
  await gpu().sync();
  const n = (2 * 1024 * 1024) / 4; // 2 MiB tensors
  const x = tensor(new Float32Array(n).fill(1), [n]);
  const before = gpu().memory().allocations;
  // 160 × 2 MiB released without a readback: without an early submit none could be reused
  for (let k = 0; k < 160; k++) {
    scope(() => {
      ops.neg(x);
    });
  }
  await gpu().sync();
  const grew = gpu().memory().allocations - before;
  assert.ok(grew <= 80, `allocated ${grew} buffers for 160 short-lived 2 MiB tensors`);
  x.dispose();
  gpu().trim();
});


test('a repeated training step gets the same buffers: no new bind groups after warm-up', async () => {
  // ResNet-18 (residual adds: intermediates are released in another order than they were
  // taken, which a last-released-first pool turned into another buffer assignment each step)
  const { models, losses } = (await import('./helpers/lib.mjs')).default;
  const r = rng(7);
  const model = models.resnet18({ numClasses: 10, smallInput: true }).train();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = keep(tensor(Float32Array.from(r.uniform(2 * 3 * 32 * 32, -1, 1)), [2, 3, 32, 32]));
  const y = keep(tensor(Int32Array.from([3, 1]), [2], { dtype: 'i32' }));
  const step = () => scope(() => { opt.zeroGrad(); losses.crossEntropy(model.forward(x), y).backward(); opt.step(); });
  await internal.settleGarbage();
  step(); // warm-up: pipelines, pool
  await gpu().sync();
  const g = gpu();
  const dispatch = g.dispatch;
  const record = async () => {
    const bufs = [];
    g.dispatch = (d) => { bufs.push(d.bindings.map((b) => b.buffer)); dispatch.call(g, d); };
    try { step(); await g.sync(); } finally { g.dispatch = dispatch; }
    return bufs;
  };
  const a = await record();
  const b0 = g.counters.bindGroups;
  const b = await record();
  assert.ok(a.length > 200 && b.length === a.length, `dispatches per step: ${a.length}, ${b.length}`);
  const differ = a.filter((bs, k) => bs.some((buf, j) => buf !== b[k][j])).length;
  assert.is(differ, 0, 'dispatches whose buffers changed from one step to the next');
  assert.is(g.counters.bindGroups - b0, 0, 'bind groups created by the repeated step');
  x.dispose(); y.dispose(); model.dispose();
});

test.run();
