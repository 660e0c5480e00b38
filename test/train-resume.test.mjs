// What train() checks before it trains or changes a file (issue 12), through the library:
// every metadata field of a checkpoint and a model file, the checkpoint against the run's
// options and data on --resume, the data a caller prepared, the run folder; a divergence names
// only the current run's checkpoints; and a run disposes what it created on the GPU.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { gpu } from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const { train: T, data: D } = lib;
const data = tmp();
writeIdxSet(data, { n: 48, m: 16, h: 6, w: 6 });
const base = (out, extra = {}) => ({
  data, out, arch: 'mlp', loss: 'ce', epochs: 2, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', seed: 5, progress: 'none', logEvery: 1, log: () => {},
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  ...extra,
});

const done = tmp();
await T.train(base(done));
const CK = 'checkpoint-ce.safetensors';

/**
 * Rewrite a file's metadata (edit gets the metadata) and tensors. The checksum goes (as in a file
 * written before checksums) unless `keepChecksum`, so that each test reaches the check it is about.
 */
function rewrite(path, edit, editTensors = () => {}, keepChecksum = false) {
  const { tensors, metadata } = T.readSafetensorsFile(path);
  if (!keepChecksum) delete metadata.checksum;
  edit(metadata);
  editTensors(tensors);
  writeFileSync(path, T.encodeSafetensors(tensors, metadata));
}

/** A copy of the finished run with its checkpoint's metadata edited. */
function copyWith(edit, editTensors, keepChecksum) {
  const dir = tmp();
  cpSync(done, dir, { recursive: true });
  rewrite(join(dir, CK), edit, editTensors, keepChecksum);
  return dir;
}

async function refused(promise, file, pattern, what) {
  try {
    await promise;
  } catch (e) {
    assert.instance(e, lib.InputError, `${what}: ${e?.stack ?? e}`);
    assert.ok(e.message.includes(file), `${what}: the message names ${file}: ${e.message}`);
    assert.match(e.message, pattern, what);
    return e;
  }
  assert.unreachable(`${what}: accepted`);
}

async function refusedAs(promise, cls) {
  try {
    await promise;
  } catch (e) {
    assert.instance(e, cls, String(e));
    return;
  }
  assert.unreachable(`no ${cls.name}`);
}

const json = (metadata, field, fn) => {
  const v = JSON.parse(metadata[field]);
  fn(v);
  metadata[field] = JSON.stringify(v);
};

// each field of a training checkpoint, damaged: readCheckpoint (and so --resume, eval, cam) refuses it naming the field
const CHECKPOINT_FIELDS = [
  ['format missing', (m) => delete m.format, /metadata field 'format': \(missing\), but the file holds the trainer's fields/],
  ['format of a model file', (m) => (m.format = 'focusnet-model'), /metadata field 'num_classes': missing/],
  ['stage unknown', (m) => (m.stage = 'warmup'), /metadata field 'stage': "warmup" is not a stage/],
  ['arch unknown', (m) => (m.arch = 'vgg'), /metadata field 'arch': "vgg" is not an architecture/],
  ['arch of another stage', (m) => (m.arch = 'lenet5'), /metadata field 'arch': "lenet5", the configuration's arch is "mlp"/],
  ['epoch not a number', (m) => (m.epoch = 'abc'), /metadata field 'epoch': "abc" is not a whole number/],
  ['epoch beyond the run', (m) => (m.epoch = '9'), /metadata field 'epoch': 9 is beyond the 2 epochs/],
  ['optim_step negative', (m) => (m.optim_step = '-3'), /metadata field 'optim_step': "-3" is not a whole number/],
  ['optim_step too small', (m) => (m.optim_step = '1'), /metadata field 'optim_step': 1 steps cannot complete 2 epochs/],
  ['rng not JSON', (m) => (m.rng = '{seed'), /metadata field 'rng': not valid JSON/],
  ['rng of another epoch', (m) => json(m, 'rng', (r) => (r.next_epoch = 1)), /metadata field 'rng': "next_epoch" is 1, the checkpoint is at epoch 2/],
  ['rng of another seed', (m) => json(m, 'rng', (r) => (r.seed = 6)), /metadata field 'config': "seed" is 5, the RNG state says 6/],
  ['random_state a list', (m) => (m.random_state = '[]'), /metadata field 'random_state': \[\] is not a JSON object/],
  ['random_state count', (m) => (m.random_state = '{"drop":-1}'), /metadata field 'random_state': "drop" is -1, not a draw count/],
  ['random_state of other steps', (m) => (m.random_state = '{"drop":5}'), /metadata field 'random_state': "drop" has drawn 5 dropout masks, but 6 training steps draw 6/],
  ['checksum junk', (m) => (m.checksum = 'md5:1'), /metadata field 'checksum': "md5:1" is not 'sha256:' and 64 hex digits/],
  ['config missing', (m) => delete m.config, /metadata field 'config': missing/],
  ['config without the loss', (m) => json(m, 'config', (c) => delete c.loss), /metadata field 'config': "loss" is \(missing\), not a loss/],
  ['history not a list', (m) => (m.history = '{}'), /metadata field 'history': \{\} is not a JSON list/],
  ['history one epoch short', (m) => json(m, 'history', (h) => h.pop()), /metadata field 'history': holds 1 ce epochs, the checkpoint is at epoch 2/],
  ['history NaN loss', (m) => json(m, 'history', (h) => (h[1].loss = null)), /metadata field 'history': record 2: "loss" is null, not a finite number/],
  ['history out of order', (m) => json(m, 'history', (h) => h.reverse()), /metadata field 'history': the ce epochs are not 1\.\.2 in order/],
  ['norm not JSON', (m) => (m.norm = 'mean=0.5'), /metadata field 'norm': not valid JSON/],
  ['norm lengths', (m) => json(m, 'norm', (n) => n.std.push(1)), /metadata field 'norm': "mean" has 1 values, "std" 2/],
  ['norm std 0', (m) => json(m, 'norm', (n) => (n.std[0] = 0)), /metadata field 'norm': "std"\[0\] is 0, not > 0/],
  ['norm NaN', (m) => json(m, 'norm', (n) => (n.mean[0] = null)), /metadata field 'norm': "mean"\[0\] is null, not a finite number/],
  ['data missing', (m) => delete m.data, /metadata field 'data': missing/],
  ['data hash', (m) => json(m, 'data', (d) => (d.hash = 'abc')), /metadata field 'data': "hash" is "abc", not a SHA-256/],
];
for (const [what, edit, pattern] of CHECKPOINT_FIELDS) {
  test(`checkpoint metadata, ${what}: ${pattern ? 'a DataError naming the file and the field' : 'read as a bare state dict'}`, () => {
    const dir = copyWith(edit);
    const file = join(dir, CK);
    if (!pattern) {
      assert.is(T.readCheckpoint(file).info.kind, 'state-dict');
      return;
    }
    assert.throws(() => T.readCheckpoint(file), (e) => e instanceof lib.DataError && e.message.startsWith(`${file}: `) && pattern.test(e.message));
  });
}

test('a bare state dict in the checkpoint\'s place is not resumed', async () => {
  const dir = copyWith((m) => {
    for (const k of Object.keys(m)) delete m[k];
  });
  await refused(T.train(base(dir, { resume: true })), join(dir, CK), /metadata field 'format': null: not a training checkpoint/, 'no metadata');
});

test('the checksum finds a changed weight or a consistently edited field', () => {
  const flipped = join(copyWith(() => {}, (t) => (t['model.fc1.weight'].data[5] += 1e-3), true), CK);
  const edited = join(copyWith((m) => json(m, 'norm', (n) => (n.mean[0] += 0.01)), undefined, true), CK);
  for (const file of [flipped, edited]) {
    assert.throws(() => T.readCheckpoint(file), (e) => e instanceof lib.DataError && e.message.startsWith(`${file}: metadata field 'checksum': the file's metadata and tensors do not match it`));
  }
  const intact = join(copyWith(() => {}, undefined, true), CK);
  assert.is(T.readCheckpoint(intact).info.epoch, 2);
  assert.match(T.readSafetensorsFile(intact).metadata.checksum, /^sha256:[0-9a-f]{64}$/);
});

const MODEL_FIELDS = [
  ['num_classes', '0', /metadata field 'num_classes': 0 is out of range/],
  ['num_classes', '7', /metadata field 'num_classes': 7, but the classifier 'fc2\.weight' \[10, 64\] has 10 classes/],
  ['in_channels', 'three', /metadata field 'in_channels': "three" is not a whole number/],
  ['in_channels', '3', /metadata field 'norm': has 1 channels, in_channels says 3/],
  ['image_size', '', /metadata field 'image_size': "" is not a whole number/],
  ['stage', 'final', /metadata field 'stage': "final" is not a stage/],
  ['norm', undefined, /metadata field 'norm': missing/],
];
for (const [field, value, pattern] of MODEL_FIELDS) {
  test(`model file metadata ${field}=${JSON.stringify(value)}: a DataError naming the file and the field`, () => {
    const file = join(tmp(), 'ce.safetensors');
    cpSync(join(done, 'ce.safetensors'), file);
    rewrite(file, (m) => (value === undefined ? delete m[field] : (m[field] = value)));
    assert.throws(() => T.readCheckpoint(file), (e) => e instanceof lib.DataError && e.message.startsWith(`${file}: `) && pattern.test(e.message));
  });
}

test('model file image_size that is not the data\'s: loading it for the data names the field', () => {
  const file = join(tmp(), 'ce.safetensors');
  cpSync(join(done, 'ce.safetensors'), file);
  rewrite(file, (m) => (m.image_size = '8'));
  assert.throws(() => T.loadModelFile(file, { arch: 'mlp', numClasses: 10, inChannels: 1, imageSize: 6 }), (e) => e instanceof lib.DataError && /metadata field 'image_size': the model was trained on 8×8 images, the data's are 6×6/.test(e.message));
});

test('tensors: an I32 weight, stray momentum, non-finite values are refused naming the file', () => {
  const read = [
    [(t) => (t['optim.momentum.0'] = { ...t['optim.momentum.0'], dtype: 'i32', data: new Int32Array(t['optim.momentum.0'].data.length) }), /tensor 'optim\.momentum\.0' is I64 \[\d+\], SGD momentum is F32/],
    [(t) => (t['optim.momentum.2'] = t['optim.momentum.0']), /the SGD momentum tensors are numbered 0, 2, not 0\.\.1/],
    [(t) => (t['optim.state'] = t['optim.momentum.0']), /tensor 'optim\.state' is neither a model tensor/],
    [(t) => delete t['optim.momentum.0'], /has no SGD momentum tensors/],
    [(t) => (t['model.fc2.bias'].data[3] = NaN), /tensor 'model\.fc2\.bias' holds NaN at index 3/],
    [(t) => (t['model.fc2.weight'] = { ...t['model.fc2.weight'], shape: [640] }), /a mlp needs its classifier 'model\.fc2\.weight' as a matrix/],
  ];
  for (const [edit, pattern] of read) {
    const file = join(copyWith(() => {}, edit), CK);
    assert.throws(() => T.readCheckpoint(file), (e) => e instanceof lib.DataError && e.message.startsWith(`${file}: `) && pattern.test(e.message), String(pattern));
  }
  const i32 = join(copyWith(() => {}, (t) => (t['model.fc1.weight'] = { ...t['model.fc1.weight'], dtype: 'i32', data: new Int32Array(t['model.fc1.weight'].data.length) })), CK);
  assert.throws(() => T.loadModelFile(i32, { arch: 'mlp', numClasses: 10, inChannels: 1, imageSize: 6 }), (e) => e instanceof lib.DataError && e.message.startsWith(`${i32}: `) && /model\.fc1\.weight: \[64, 36\] i32 in the file, \[64, 36\] f32 in the model/.test(e.message));
});

test('--resume: a second momentum arena for a model that has one exits as a DataError naming the file', async () => {
  const dir = copyWith(() => {}, (t) => (t['optim.momentum.1'] = t['optim.momentum.0']));
  await refused(T.train(base(dir, { resume: true })), join(dir, CK), /SGD momentum tensors .* do not fit the model: expected 1 momentum arenas, got 2/, 'two arenas');
});

test('--resume checks the checkpoint against the data: step count, normalisation, fingerprint', async () => {
  const steps = copyWith((m) => ((m.optim_step = '5'), (m.random_state = '{"drop":5}')));
  await refused(T.train(base(steps, { resume: true })), join(steps, CK), /metadata field 'optim_step': 5, but 2 epochs of 3 steps are 6/, 'optim_step');
  const norm = copyWith((m) => json(m, 'norm', (n) => (n.mean[0] += 0.01)));
  await refused(T.train(base(norm, { resume: true })), join(norm, CK), /metadata field 'norm': .* is not the normalisation of the data/, 'norm');
  const other = tmp();
  writeIdxSet(other, { n: 48, m: 16, h: 6, w: 6, seed: 77 });
  const dir = copyWith(() => {});
  const before = readFileSync(join(dir, CK));
  await refused(T.train(base(dir, { data: other, resume: true })), join(dir, CK), /--resume: the run was started on idx data at .*, this is idx data at .*: content hash .*--allow-other-data/, 'other data');
  const fewer = tmp();
  writeIdxSet(fewer, { n: 40, m: 16, h: 6, w: 6 });
  await refused(T.train(base(dir, { data: fewer, resume: true })), join(dir, CK), /48 → 40 training images/, 'fewer images');
  assert.equal(readFileSync(join(dir, CK)), before, 'the refused resumes changed nothing');
  const lines = [];
  await T.train(base(dir, { data: other, resume: true, epochs: 2, allowOtherData: true, log: (l) => lines.push(l) }));
  assert.ok(lines.some((l) => /note: --allow-other-data: continuing on other data/.test(l)), lines.join('\n'));
});

test('--resume in stage 2 needs the run\'s baseline model file', async () => {
  const dir = tmp();
  await refusedAs(T.train(base(dir, { loss: 'focus', epochs: 2, baselineEpochs: 1, stopAfterEpochs: 2 })), T.StoppedError);
  const moved = tmp();
  cpSync(dir, moved, { recursive: true });
  rmSync(join(moved, 'baseline.safetensors'));
  await refused(T.train(base(moved, { loss: 'focus', epochs: 2, baselineEpochs: 1, resume: true })), moved, /has checkpoint-focusnet\.safetensors but not the baseline it was trained next to/, 'no baseline');
  rewrite(join(dir, 'baseline.safetensors'), (m) => (m.stage = 'ce'));
  await refused(T.train(base(dir, { loss: 'focus', epochs: 2, baselineEpochs: 1, resume: true })), join(dir, 'baseline.safetensors'), /is not this run's baseline model file/, 'another baseline');
});

test('data a caller prepared gets the checks of the command line: empty split, bad normalisation', async () => {
  const p = T.prepareData({ data });
  await refused(T.train(base(tmp()), { ...p, test: new D.SubsetSplit(p.test, 0) }), data, /the test split has no images/, 'empty test split');
  await refused(T.train(base(tmp()), { ...p, norm: { mean: [NaN], std: [1] } }), data, /normalisation computed from the training split: mean \[NaN\]/, 'NaN normalisation');
});

test('--resume of a run this command cannot continue, and --force over its own --baseline, are refused', async () => {
  const dir = copyWith(() => {}, undefined, true);
  await refused(T.train(base(dir, { loss: 'ls', resume: true })), dir, /--resume: holds files of a run \(ce\.safetensors, checkpoint-ce\.safetensors, metrics\.jsonl, summary\.json\) but no checkpoint this command can continue \(checkpoint-ls\.safetensors\)/, 'another method');
  await refused(T.train(base(dir, { loss: 'kd', baseline: join(dir, 'ce.safetensors'), force: true })), join(dir, 'ce.safetensors'), /is a file of the run in --out that --force would remove/, '--force over --baseline');
  assert.ok(existsSync(join(dir, 'ce.safetensors')));
});

test('a divergence after --force names no checkpoint of the replaced run', async () => {
  const dir = tmp();
  cpSync(done, dir, { recursive: true });
  await refused(T.train(base(dir, { lr: 1e20, warmupSteps: 0 })), dir, /holds a training run .* pass --resume to continue it, --force to replace it/, 'no --force');
  try {
    await T.train(base(dir, { lr: 1e20, warmupSteps: 0, force: true }));
    assert.unreachable('should diverge');
  } catch (e) {
    assert.instance(e, T.DivergedError, String(e));
    assert.match(e.message, /ce epoch 1, by step \d+: the loss became/);
    assert.match(e.message, /No checkpoint of this stage was written yet/);
    assert.not.match(e.message, /last good checkpoint/);
  }
  assert.ok(!existsSync(join(dir, CK)), 'the replaced run\'s checkpoint is gone');
});

test('train() disposes the models, optimizers and sums it created: GPU buffers stay flat over many runs', async () => {
  const p = T.prepareData({ data });
  const inUse = async () => {
    await gpu().sync();
    return gpu().memory().buffersInUse;
  };
  await T.train(base(tmp(), { epochs: 1, loss: 'focus', baselineEpochs: 1 }), p); // warm-up: pipelines, caches
  const start = await inUse();
  const counts = [];
  for (let i = 0; i < 4; i++) {
    await T.train(base(tmp(), { epochs: 1, loss: i % 2 ? 'focus' : 'ce', baselineEpochs: 1 }), p);
    counts.push(await inUse());
  }
  await refusedAs(T.train(base(tmp(), { epochs: 1, lr: 1e20, warmupSteps: 0 }), p), T.DivergedError); // a failing run too
  counts.push(await inUse());
  assert.equal(counts, counts.map(() => start), `buffers in use after each run: ${counts.join(', ')} (${start} before)`);
});

test.run();
