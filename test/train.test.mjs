// The trainer's mechanics on a tiny MLP: GPU metric sums, resume equivalence,
// a diverging run keeping its last good checkpoint, the output files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { tensor } from './helpers/lib.mjs';
import { rng, assertClose } from './helpers/ref.mjs';
import { tmp, writeIdxSet, writeCifar10 } from './helpers/datasets.mjs';

const { train: T, optim } = lib;

/** A top-1/top-5 figure: a finite percentage (NaN, ±Infinity and out-of-range values fail). */
function assertPercent(v, what) {
  assert.ok(Number.isFinite(v) && v >= 0 && v <= 100, `${what}: ${v} is not a percentage`);
}

test('metric sums: loss, top-1 and top-5 against a CPU count (ties go to the lower index)', async () => {
  const r = rng(11);
  const B = 37, N = 9;
  const z = Float32Array.from(r.uniform(B * N, -2, 2));
  // a few ties with the label's logit
  z[3 * N + 2] = z[3 * N + 5];
  z[4 * N + 0] = z[4 * N + 1];
  const y = Int32Array.from(r.ints(B, N));
  y[3] = 5;
  y[4] = 1;
  const acc = new T.MetricAccumulator();
  acc.reset();
  const zt = tensor(z, [B, N]);
  const yt = tensor(y, [B], { dtype: 'i32' });
  const lt = tensor([0.75], [1]);
  acc.add(zt, yt, lt);
  acc.add(zt, yt, lt);
  const m = await acc.read();
  let c1 = 0, c5 = 0;
  for (let b = 0; b < B; b++) {
    const t = y[b];
    let above = 0;
    for (let j = 0; j < N; j++) if (z[b * N + j] > z[b * N + t] || (z[b * N + j] === z[b * N + t] && j < t)) above++;
    if (above === 0) c1++;
    if (above < 5) c5++;
  }
  assert.is(m.count, 2 * B);
  assert.ok(Math.abs(m.top1 - (100 * c1) / B) < 1e-4, `top1 ${m.top1} vs ${(100 * c1) / B}`);
  assert.ok(Math.abs(m.top5 - (100 * c5) / B) < 1e-4, `top5 ${m.top5} vs ${(100 * c5) / B}`);
  assert.ok(Math.abs(m.loss - 0.75) < 1e-6);
  assert.ok(c1 > 0 && c1 < B && c5 > c1, 'the inputs exercise both outcomes');
  [zt, yt, lt].forEach((t) => t.dispose());
  acc.dispose();
});

const base = (data, out, extra = {}) => ({
  data, out, arch: 'mlp', loss: 'ce', epochs: 3, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', seed: 5, progress: 'none', logEvery: 2, log: () => {},
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  ...extra,
});

function tensorsOf(path) {
  return T.readSafetensorsFile(path).tensors;
}

test('resume after an interruption reaches the same weights and metrics as an uninterrupted run', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 96, m: 40, h: 8, w: 8 });
  const a = tmp();
  const sa = await T.train(base(data, a, { warmupSteps: 9 }));
  const b = tmp();
  try {
    await T.train(base(data, b, { stopAfterEpochs: 2, warmupSteps: 9 }));
    assert.unreachable('should stop');
  } catch (e) {
    assert.instance(e, T.StoppedError);
  }
  assert.is(readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  const resumed = [];
  const sb = await T.train(base(data, b, { resume: true, warmupSteps: 9, log: (l) => resumed.push(l) }));
  // the resumed run continued from the checkpoint: it trained epoch 3 only
  assert.ok(resumed.some((l) => /resuming from .*checkpoint-ce\.safetensors \(2 epochs done\)/.test(l)), resumed.join('\n'));
  assert.equal(resumed.filter((l) => / epoch \d\/3:/.test(l)).map((l) => l.split(':')[0]), ['ce epoch 3/3']);
  const ta = tensorsOf(join(a, 'ce.safetensors'));
  const tb = tensorsOf(join(b, 'ce.safetensors'));
  for (const k of Object.keys(ta)) assert.equal([...tb[k].data], [...ta[k].data], `${k} differs after resume`);
  const ma = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const mb = readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(mb.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.is(mb[i].loss, ma[i].loss);
    assert.is(mb[i].test_top1, ma[i].test_top1);
    for (const k of ['stage', 'epoch', 'loss', 'train_acc', 'test_top1', 'test_top5', 'lr', 'images_per_s', 'seconds']) assert.ok(k in mb[i], `metrics line has ${k}`);
  }
  assert.equal(sb.ce, sa.ce);
  assert.ok(sa.ce.top1 > 30 && sa.ce.top1 <= 100, `the tiny MLP learns something (top-1 ${sa.ce.top1})`);
  const summary = JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8'));
  assert.equal(summary.ce, sa.ce);
});

test('lr schedules: per-epoch schedules on steps, linear warm-up composed on top', () => {
  const epochLr = optim.namedSchedule('multistep', 0.1, 4); // default milestones: epochs 2 and 3
  assert.equal([0, 1, 2, 3].map(epochLr), [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1 ** 2]);
  const steps = optim.perStep(epochLr, 5);
  assert.equal([0, 4, 5, 9, 10, 14, 15, 19].map(steps), [0.1, 0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002]);
  const lrAt = optim.linearWarmup(steps, 12);
  // steps 0..11 ramp lr·(t+1)/12 of their epoch's rate (the epoch-2 drop at step 10 included), then the plain schedule
  for (let t = 0; t < 20; t++) assert.is(lrAt(t), t < 12 ? (steps(t) * (t + 1)) / 12 : steps(t), `step ${t}`);
  assert.is(lrAt(0), 0.1 / 12);
  assert.equal([0, 7, 30].map(optim.linearWarmup(steps, 0)), [0.1, 0.1, steps(30)], 'no warm-up');
  const cos = optim.namedSchedule('cosine', 0.2, 4);
  assertClose([0, 1, 2, 4].map(cos), [0.2, 0.1 * (1 + Math.SQRT1_2), 0.1, 0], { rtol: 1e-12, atol: 1e-15 });
  assert.equal([0, 9].map(optim.namedSchedule('constant', 0.3, 4)), [0.3, 0.3]);
  assert.equal([0, 1, 2].map(optim.namedSchedule('multistep', 1, 3, { milestones: [1], gamma: 0.5 })), [1, 0.5, 0.5]);
});

test('lr warm-up: step t trains with lr·(t+1)/warmupSteps', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 48, m: 16, h: 8, w: 8 });
  const run = async (extra) => {
    const out = tmp();
    await T.train(base(data, out, { epochs: 1, ...extra }));
    return tensorsOf(join(out, 'ce.safetensors'));
  };
  const frozen = await run({ lr: 0 });
  const crawl = await run({ warmupSteps: 1e9 }); // lr ≈ 5e-11 on every step
  const plain = await run({ warmupSteps: 0 });
  let dCrawl = 0;
  let dPlain = 0;
  for (const k of Object.keys(frozen)) {
    const f = frozen[k].data;
    for (let i = 0; i < f.length; i++) {
      dCrawl = Math.max(dCrawl, Math.abs(crawl[k].data[i] - f[i]));
      dPlain = Math.max(dPlain, Math.abs(plain[k].data[i] - f[i]));
    }
  }
  assert.ok(dCrawl < 1e-6, `a warm-up longer than the run barely moves the weights (${dCrawl})`);
  assert.ok(dPlain > 1e-3, `without warm-up the weights move (${dPlain})`);
});

test('GPU memory stays flat across epochs of the batch loop', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 80, m: 8, h: 8, w: 8 });
  const { train: split, norm } = T.prepareData({ data });
  const model = T.createModel('mlp', { numClasses: 10, inChannels: 1, imageSize: 8, seed: 1 });
  const opt = new lib.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const acc = new T.MetricAccumulator();
  const loader = new lib.data.Loader(split, { batchSize: 16, shuffle: true, dropLast: true, norm, seed: 1 });
  const step = (b) => lib.scope(() => {
    const z = model.forward(b.x);
    const loss = lib.ops.neg(lib.ops.mean(lib.ops.gather(lib.ops.logSoftmax(z), b.y)));
    opt.zeroGrad(); loss.backward(); opt.step(); acc.add(z, b.y, loss);
  });
  await lib.internal.settleGarbage(); // earlier suites' dropped tensors must not return mid-count
  const live = [];
  for (let e = 0; e < 3; e++) {
    loader.startEpoch(1, e);
    await T.runBatches(loader, step, { check: async () => { await acc.read(); }, every: 2 });
    await lib.gpu().sync();
    live.push(lib.gpu().memory().buffersInUse);
  }
  assert.is(live[2], live[1], `live buffers ${live}`);
  assert.is(live[1], live[0], `live buffers ${live}`);
  acc.dispose();
  opt.dispose();
});

test('CIFAR-10 binaries train with crop + flip; --cache-baseline is refused for augmented data', async () => {
  const data = tmp();
  writeCifar10(data, [20, 20], 10);
  const lines = [];
  const s = await T.train(base(data, tmp(), { loss: 'kd', epochs: 1, baselineEpochs: 1, batchSize: 8, cacheBaseline: true, log: (l) => lines.push(l) }));
  assert.ok(lines.some((l) => /augmentation random crop \+ flip/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /--cache-baseline ignored: the training split is augmented/.test(l)), lines.join('\n'));
  assert.is(s.cache_baseline, false);
  assertPercent(s.kd.top1, 'kd top-1');
  assertPercent(s.baseline.top1, 'baseline top-1');
  // the crop + flip path ran: the same run without augmentation trains other weights
  const aug = tmp();
  const plain = tmp();
  await T.train(base(data, aug, { epochs: 1, batchSize: 8 }));
  await T.train(base(data, plain, { epochs: 1, batchSize: 8, augment: false }));
  const ta = tensorsOf(join(aug, 'ce.safetensors'));
  const tp = tensorsOf(join(plain, 'ce.safetensors'));
  assert.ok(Object.keys(ta).some((k) => ta[k].data.some((v, i) => v !== tp[k].data[i])), 'augmented and plain runs differ');
});

test('a label outside the classes is refused before training, naming the split, the image and the label', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 32, m: 8, h: 8, w: 8 });
  const expectRefused = async (prepared, pattern) => {
    const out = tmp();
    try {
      await T.train(base(data, out, { epochs: 1 }), prepared);
      assert.unreachable('should refuse the labels');
    } catch (e) {
      assert.instance(e, lib.data.DataError, String(e));
      assert.match(e.message, pattern);
    }
    assert.ok(!existsSync(join(out, 'checkpoint-ce.safetensors')), 'no training step ran');
  };
  const p1 = T.prepareData({ data });
  p1.train.labels[5] = 12;
  await expectRefused(p1, /training split of .*: label 12 of image 5 is out of range for 10 classes/);
  const p2 = T.prepareData({ data });
  p2.test.labels[3] = -1;
  await expectRefused(p2, /test split of .*: label -1 of image 3 is out of range for 10 classes/);
});

test('a diverging loss stops training with a clear message and keeps the last good checkpoint', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 64, m: 16, h: 8, w: 8 });
  const out = tmp();
  // epoch 1 at a sane lr, then ×1e30 from epoch 2 on
  const o = base(data, out, { epochs: 3, milestones: [1], gamma: 1e30 });
  try {
    await T.train(o);
    assert.unreachable('should diverge');
  } catch (e) {
    assert.instance(e, T.DivergedError);
    assert.match(e.message, /ce epoch 2, by step \d+: the loss became (NaN|Infinity|-Infinity)/);
    assert.match(e.message, /last good checkpoint \(ce epoch 1\)/);
  }
  const ck = T.readSafetensorsFile(join(out, 'checkpoint-ce.safetensors'));
  assert.is(ck.metadata.epoch, '1');
  for (const t of Object.values(ck.tensors)) assert.ok(t.data.every(Number.isFinite), 'checkpoint holds finite numbers');
  assert.ok(!existsSync(join(out, 'summary.json')));
});

test('two stages: killed in stage 2, resumed from baseline.safetensors to the same result; --cache-baseline trains the same', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 96, m: 40, h: 8, w: 8 });
  const o = (out, extra = {}) => base(data, out, { loss: 'focus', epochs: 2, baselineEpochs: 2, cacheBaseline: false, ...extra });
  const a = tmp();
  const sa = await T.train(o(a));
  assertPercent(sa.baseline.top1, 'baseline top-1');
  assertPercent(sa.focusnet.top1, 'focusnet top-1');
  for (const f of ['baseline.safetensors', 'focusnet.safetensors', 'checkpoint-baseline.safetensors', 'checkpoint-focusnet.safetensors', 'metrics.jsonl', 'summary.json']) assert.ok(existsSync(join(a, f)), f);
  const lines = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.map((l) => `${l.stage}:${l.epoch}`), ['baseline:1', 'baseline:2', 'focusnet:1', 'focusnet:2']);
  const b = tmp();
  try {
    await T.train(o(b, { stopAfterEpochs: 3 }));
    assert.unreachable('should stop');
  } catch (e) {
    assert.instance(e, T.StoppedError);
  }
  const resumed = [];
  const sb = await T.train(o(b, { resume: true, log: (l) => resumed.push(l) }));
  // the resumed run took the baseline from baseline.safetensors: no stage-1 epoch, stage 2's second epoch only
  assert.ok(resumed.some((l) => /resuming from .*checkpoint-focusnet\.safetensors \(3 epochs done\)/.test(l)), resumed.join('\n'));
  assert.equal(resumed.filter((l) => / epoch \d\/2:/.test(l)).map((l) => l.split(':')[0]), ['focusnet epoch 2/2']);
  assert.equal(sb.baseline, sa.baseline);
  assert.equal(sb.focusnet, sa.focusnet);
  // predictions.json: both final models' test predictions, which give the summary's top-1;
  // a resumed run (its baseline evaluated again) writes the same
  const pa = JSON.parse(readFileSync(join(a, 'predictions.json'), 'utf8'));
  assert.is(pa.labels.length, 40);
  assert.is(pa.classes.length, 10);
  for (const [k, s] of [['baseline', sa.baseline], ['focusnet', sa.focusnet]]) {
    assert.is(pa[k].length, 40, `${k} predictions`);
    const top1 = (100 * pa[k].filter((p, i) => p === pa.labels[i]).length) / 40;
    assert.ok(Math.abs(top1 - s.top1) < 1e-6, `${k}: top-1 from predictions.json ${top1} vs summary ${s.top1}`);
  }
  assert.equal(JSON.parse(readFileSync(join(b, 'predictions.json'), 'utf8')), pa);
  const ta = tensorsOf(join(a, 'focusnet.safetensors'));
  const tb = tensorsOf(join(b, 'focusnet.safetensors'));
  for (const k of Object.keys(ta)) assert.equal([...tb[k].data], [...ta[k].data], `${k} differs after resume`);
  // the logit cache replaces the baseline's forward pass by the same numbers
  const c = tmp();
  const cached = [];
  const sc = await T.train(o(c, { cacheBaseline: true, log: (l) => cached.push(l) }));
  assert.is(sc.cache_baseline, true);
  // the cache path ran: the logits were computed once, and every stage-2 epoch used them
  assert.ok(cached.some((l) => /cached the baseline's logits for 96 training images/.test(l)), cached.join('\n'));
  const mc = readFileSync(join(c, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(mc.filter((l) => l.stage === 'focusnet').map((l) => l.cached_baseline), [true, true]);
  const tc = tensorsOf(join(c, 'focusnet.safetensors'));
  for (const k of Object.keys(ta)) {
    let d = 0;
    for (let i = 0; i < ta[k].data.length; i++) d = Math.max(d, Math.abs(ta[k].data[i] - tc[k].data[i]));
    assert.ok(d < 1e-3, `${k}: cached and uncached runs differ by ${d}`);
  }
});

test.run();
