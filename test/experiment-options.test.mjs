// What an experiment's methods and the trainer's stages may be set to: every option of
// losses.focusPicking (alpha, beta, rule, temperature, labelSmoothing, impl) reaches the loss,
// from a spec's method and from train's flags; a baseline trained alone (stages: 'baseline')
// is stage 1 of a full training; train caches the baseline's logits by default where the data
// is not augmented; bad values exit 2 naming the flag or field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { distDir, tensor } from './helpers/lib.mjs';
import { rng } from './helpers/ref.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const T = lib.train;
const X = lib.experiment;
const CLI = join(distDir, 'cli.js');
const cli = (args) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const OBJECTIVE = { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' };
const data = tmp();
writeIdxSet(data, { n: 96, m: 48, h: 8, w: 8 });
const SCHEDULE = ['--arch', 'mlp', '--epochs', '1', '--batch-size', '16', '--lr', '0.1', '--progress', 'none'];
const options = (out, extra = {}) => ({
  data, out, arch: 'mlp', loss: 'focus', epochs: 1, batchSize: 16, lr: 0.1, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', warmupSteps: 'auto', seed: 2, progress: 'none', log: () => {}, objective: OBJECTIVE, ...extra,
});
const tensors = (file) => T.readSafetensorsFile(file).tensors;
const same = (a, b) => Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k].data.every((v, i) => v === b[k].data[i]));

test("the stage-2 objective passes focus's temperature and label smoothing to losses.focusPicking", async () => {
  const r = rng(3);
  const B = 6, N = 5;
  const z = tensor(r.uniform(B * N, -3, 3), [B, N]);
  const zb = tensor(r.uniform(B * N, -3, 3), [B, N]);
  const y = tensor(r.ints(B, N), [B], { dtype: 'i32' });
  // every tensor made here is disposed (a dropped one would be finalized during a later test)
  const value = async (t) => {
    const v = (await t.read())[0];
    t.dispose();
    return v;
  };
  const mine = { ...OBJECTIVE, rule: 'softmax', warmTemperature: 0.1, focusLabelSmoothing: 0.2 };
  // at T = 0.1 the softmax rule keeps little beyond each row's largest logit, at T = 2 more
  const warm = async (t) => {
    const l = lib.losses.multiWarmLabel(zb, y, { rule: 'softmax', temperature: t });
    const v = Array.from(await l.read());
    l.dispose();
    return v;
  };
  assert.not.equal(await warm(0.1), await warm(2), 'the temperature matters on these logits');
  for (const impl of ['fused', 'composed']) {
    const got = await value(T.stageTwoLoss('focus', z, zb, y, { ...mine, impl }));
    const want = await value(lib.losses.focusPicking(z, zb, y, { rule: 'softmax', temperature: 0.1, labelSmoothing: 0.2, impl }));
    const noT = await value(lib.losses.focusPicking(z, zb, y, { rule: 'softmax', labelSmoothing: 0.2, impl }));
    const noEps = await value(lib.losses.focusPicking(z, zb, y, { rule: 'softmax', temperature: 0.1, impl }));
    assert.ok(Math.abs(want - noT) > 1e-5 && Math.abs(want - noEps) > 1e-5, `${impl}: each option changes the loss (${want}, ${noT}, ${noEps})`);
    const plain = await value(T.stageTwoLoss('focus', z, zb, y, { ...OBJECTIVE, rule: 'softmax', impl }));
    const dflt = await value(lib.losses.focusPicking(z, zb, y, { rule: 'softmax', impl }));
    assert.is(got, want, `${impl}: the options reach the loss`);
    assert.is(plain, dflt, `${impl}: left out, they are the loss's defaults (T = 2, ε = 0)`);
    assert.ok(Math.abs(got - plain) > 1e-5, `${impl}: and they change it (${got} vs ${plain})`);
  }
  [z, zb, y].forEach((t) => t.dispose());
});

test("a spec's focus method takes every focusPicking option; they map back onto the trainer's objective", () => {
  const spec = X.parseSpec(
    { methods: [{ name: 'f', loss: 'focus', alpha: 0.5, beta: 2, rule: 'softmax', temperature: 0.7, labelSmoothing: 0.1, impl: 'composed' }, { name: 'd', loss: 'focus' }, { name: 'c', loss: 'ce', impl: 'composed' }] },
    'spec.json',
    { arch: 'mlp', baselineEpochs: 1, schedule: 'multistep', seeds: [1] },
  );
  const base = { ...options('x'), objective: { ...OBJECTIVE } };
  const plan = X.buildPlan(spec, base);
  const run = (m) => plan.runs.find((r) => r.method.name === m);
  assert.equal(run('f').options, { alpha: 0.5, beta: 2, rule: 'softmax', temperature: 0.7, labelSmoothing: 0.1, impl: 'composed' });
  assert.equal(run('d').options, { alpha: 1, beta: 1, rule: 'positive-logit', temperature: 2, labelSmoothing: 0, impl: 'fused' }, 'the defaults are recorded');
  assert.equal(run('c').options, { impl: 'composed' });
  const o = X.objectiveFor(run('f'), base.objective);
  assert.equal(o, { ...OBJECTIVE, impl: 'composed', alpha: 0.5, beta: 2, rule: 'softmax', warmTemperature: 0.7, focusLabelSmoothing: 0.1 });
  assert.is(o.labelSmoothing, 0.1, "label smoothing's own ε is untouched");
  assert.is(o.temperature, 4, "KD's temperature is untouched");
  const bad = (method, pattern) => assert.throws(() => X.parseSpec({ methods: [method] }, 'spec.json', { arch: 'mlp', baselineEpochs: 1, schedule: 'multistep' }), pattern);
  bad({ name: 'f', loss: 'focus', kdWeight: 0.5 }, /spec\.json: methods\[0\]\.kdWeight: applies to loss kd, not focus/);
  bad({ name: 'f', loss: 'focus', temperature: 0 }, /methods\[0\]\.temperature: 0: expected a number > 0/);
  bad({ name: 'f', loss: 'focus', labelSmoothing: 1 }, /methods\[0\]\.labelSmoothing: 1: expected a number in \[0, 1\)/);
  bad({ name: 'f', loss: 'focus', impl: 'gpu' }, /methods\[0\]\.impl: unknown implementation 'gpu' \(known: fused, composed\)/);
  bad({ name: 'c', loss: 'ce', rule: 'softmax' }, /methods\[0\]\.rule: applies to loss focus, not ce/);
});

const full = tmp(); // a whole training, seed 2, focus with the authors' code's options
const AUTHORS = { rule: 'softmax', warmTemperature: 0.5, focusLabelSmoothing: 0.1, impl: 'composed' };

test("an experiment's focus method with those options is stage 2 of `train` with them (bit for bit)", async () => {
  const out = tmp();
  const spec = join(tmp(), 'authors.json');
  writeFileSync(spec, JSON.stringify({ methods: [{ name: 'authors', loss: 'focus', rule: 'softmax', temperature: 0.5, labelSmoothing: 0.1, impl: 'composed' }] }));
  const r = cli(['experiment', '--spec', spec, '--data', data, '--seeds', '2', ...SCHEDULE, '--out', out]);
  assert.is(r.code, 0, r.err);
  const line = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.method === 'authors');
  assert.equal(line.options, { alpha: 1, beta: 1, rule: 'softmax', temperature: 0.5, labelSmoothing: 0.1, impl: 'composed' });
  await T.train(options(full, { objective: { ...OBJECTIVE, ...AUTHORS } }));
  const theirs = tensors(join(out, 'runs', line.id, 'focusnet.safetensors'));
  assert.ok(same(tensors(join(full, 'focusnet.safetensors')), theirs), 'the same weights as train with the options');
  // and each option counts: the run without the temperature, and without the smoothing, differ
  for (const drop of ['warmTemperature', 'focusLabelSmoothing']) {
    const other = tmp();
    const { [drop]: _gone, ...rest } = AUTHORS;
    await T.train(options(other, { baseline: join(full, 'baseline.safetensors'), objective: { ...OBJECTIVE, ...rest } }));
    assert.not.ok(same(tensors(join(other, 'focusnet.safetensors')), theirs), `without ${drop} the weights differ`);
  }
});

test("stages: 'baseline' trains stage 1 alone: the same baseline as a full training, no stage-2 files", async () => {
  const out = tmp();
  const lines = [];
  const s = await T.train(options(out, { stages: 'baseline', objective: { ...OBJECTIVE, ...AUTHORS }, log: (l) => lines.push(l) }));
  assert.ok(same(tensors(join(out, 'baseline.safetensors')), tensors(join(full, 'baseline.safetensors'))), 'the baseline of the full training');
  assert.ok(s.baseline.top1 > 10, `it learned (${s.baseline.top1})`);
  assert.is(s.focusnet, undefined);
  assert.is(s.stage2, null);
  assert.equal(s.epochs, { baseline: 1 });
  for (const f of ['focusnet.safetensors', 'checkpoint-focusnet.safetensors', 'predictions.json']) assert.not.ok(existsSync(join(out, f)), `no ${f}`);
  assert.equal(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).stage2, null);
  assert.ok(lines.some((l) => /^baseline\s+1\s/.test(l)), lines.join('\n'));
  // a rerun with resume: nothing to train, the same summary
  const again = await T.train(options(out, { stages: 'baseline', objective: { ...OBJECTIVE, ...AUTHORS }, resume: true }));
  assert.is(again.baseline.top1, s.baseline.top1);
  const err = async (extra, pattern) => {
    try {
      await T.train(options(tmp(), extra));
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, lib.InputError ?? Error);
      assert.match(e.message, pattern);
    }
  };
  await err({ stages: 'stage2' }, /stages "stage2": expected 'both' or 'baseline'/);
  await err({ stages: 'baseline', baseline: join(full, 'baseline.safetensors') }, /stages 'baseline' trains the baseline, but a baseline checkpoint .* was given/);
});

test('train caches the baseline logits by default on un-augmented data, bit for bit; --no-cache-baseline turns it off', () => {
  // LeNet-5 on 28×28 images, 100 of them at batch 16: the cache pass must run the baseline at
  // the training batch size (another one picks other conv kernels, which round differently)
  const digits = tmp();
  writeIdxSet(digits, { n: 100, m: 32, h: 28, w: 28, seed: 5 });
  const args = ['train', '--data', digits, '--arch', 'lenet5', '--epochs', '2', '--batch-size', '16', '--lr', '0.05', '--progress', 'none', '--seed', '2'];
  const on = tmp();
  const r = cli([...args, '--out', on]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /cached the baseline's logits for 100 training images/);
  assert.is(JSON.parse(readFileSync(join(on, 'summary.json'), 'utf8')).cache_baseline, true);
  const off = tmp();
  const r2 = cli([...args, '--no-cache-baseline', '--out', off]);
  assert.is(r2.code, 0, r2.err);
  assert.not.match(r2.out, /cached the baseline's logits/);
  assert.is(JSON.parse(readFileSync(join(off, 'summary.json'), 'utf8')).cache_baseline, false);
  // exact: the same FocusNet either way
  assert.ok(same(tensors(join(on, 'focusnet.safetensors')), tensors(join(off, 'focusnet.safetensors'))));
});

test("train's focus flags reach the loss; bad values exit 2 naming the flag", () => {
  const out = tmp();
  const r = cli(['train', '--data', data, ...SCHEDULE, '--seed', '2', '--rule', 'softmax', '--warm-temperature', '0.5', '--focus-label-smoothing', '0.1', '--loss-impl', 'composed', '--out', out]);
  assert.is(r.code, 0, r.err);
  assert.ok(same(tensors(join(out, 'focusnet.safetensors')), tensors(join(full, 'focusnet.safetensors'))), "the flags' run is the API's run with the same options");
  const exit2 = (args, pattern) => {
    const x = cli(['train', '--data', data, ...SCHEDULE, '--out', tmp(), ...args]);
    assert.is(x.code, 2, `${args.join(' ')}: exit ${x.code} ${x.err}`);
    assert.match(x.err, pattern);
  };
  exit2(['--focus-label-smoothing', '1'], /--focus-label-smoothing 1: expected a number in \[0, 1\)/);
  exit2(['--warm-temperature', '0'], /--warm-temperature 0: expected a number > 0/);
  exit2(['--cache-baseline', '--no-cache-baseline'], /--cache-baseline and --no-cache-baseline contradict each other/);
  const e = cli(['experiment', '--preset', 'methods', '--data', data, '--out', tmp(), ...SCHEDULE, '--warm-temperature', '3']);
  assert.is(e.code, 2);
  assert.match(e.err, /--warm-temperature is not an experiment flag: set "temperature" on a focus method in a --spec file/);
});

test.run();
