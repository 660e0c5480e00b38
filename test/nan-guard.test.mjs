// Non-finite weights are caught, not evaluated: the optimizer's GPU scan of its parameter arenas
// (SGD.firstNonFinite), the trainer's divergence guard that runs it with every periodic metrics
// read (so a parameter gone non-finite stops training even while the loss is still finite), and
// the checkpoint reader's refusal of a model file holding NaN/±Inf (src/train/checkpoint.ts:
// `focusnet eval` exits 2 naming the file and the tensor).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { tensor, ops, distDir } from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const { train: T, optim } = lib;

test('SGD.firstNonFinite: null while every parameter is finite, else the first bad one (name, element, value)', async () => {
  const model = T.createModel('mlp', { numClasses: 10, inChannels: 1, imageSize: 6, seed: 2 });
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  assert.is(await opt.firstNonFinite(), null);
  const sd = model.stateDict();
  const put = async (key, index, value) => {
    const v = await sd[key].read();
    v[index] = value;
    ops.assign(sd[key], tensor(v, sd[key].shape));
  };
  await put('fc2.weight', 37, Infinity);
  assert.equal(await opt.firstNonFinite(), { name: 'fc2.weight', shape: [10, 64], index: 37, value: Infinity });
  // an earlier parameter, two bad elements: the first of the first parameter in order
  await put('fc1.bias', 9, NaN);
  await put('fc1.bias', 5, -Infinity);
  assert.equal(await opt.firstNonFinite(), { name: 'fc1.bias', shape: [64], index: 5, value: -Infinity });
  const bad = await opt.firstNonFinite();
  assert.is(bad.name, 'fc1.bias');
  // the last element of the last parameter (the arena's padding stays out of it)
  const m2 = T.createModel('mlp', { numClasses: 3, inChannels: 1, imageSize: 2, seed: 2 });
  const o2 = new optim.SGD(m2.parameters(), { lr: 0.1 });
  const b2 = m2.stateDict()['fc2.bias'];
  ops.assign(b2, tensor([0.5, 1, NaN], [3]));
  const r2 = await o2.firstNonFinite();
  assert.is(r2.name, 'fc2.bias');
  assert.is(r2.index, 2);
  assert.ok(Number.isNaN(r2.value));
  opt.dispose();
  o2.dispose();
});

const base = (data, out, extra = {}) => ({
  data, out, arch: 'mlp', loss: 'ce', epochs: 3, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', seed: 5, progress: 'none', logEvery: 1, log: () => {},
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  ...extra,
});

test('the divergence guard checks the parameters: an update that makes them non-finite stops training while the loss is still finite', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 64, m: 16, h: 8, w: 8 });
  const out = tmp();
  // epoch 1 at a sane lr; epoch 2's lr is 5e38, infinite in f32: its first update makes the
  // parameters ±Inf/NaN, but that step's loss was computed before the update and is finite
  const o = base(data, out, { milestones: [1], gamma: 1e40 });
  try {
    await T.train(o);
    assert.unreachable('should diverge');
  } catch (e) {
    assert.instance(e, T.DivergedError);
    assert.match(e.message, /ce epoch 2, by step 1: parameter '(fc1|fc2)\.(weight|bias)' \[[\d, ]+\] holds (NaN|-?Infinity) at element \d+ \(the loss is still finite\); training stopped/);
    assert.match(e.message, /last good checkpoint \(ce epoch 1\)/);
  }
  const ck = T.readSafetensorsFile(join(out, 'checkpoint-ce.safetensors'));
  assert.is(ck.metadata.epoch, '1');
});

test('a model file with non-finite weights is refused: eval exits 2 naming the file and the tensor', async () => {
  const data = tmp();
  writeIdxSet(data, { n: 32, m: 16, h: 6, w: 6 });
  const dir = tmp();
  const model = T.createModel('mlp', { numClasses: 10, inChannels: 1, imageSize: 6, seed: 4 });
  const meta = T.modelMetadata({ arch: 'mlp', stage: 'ce', numClasses: 10, inChannels: 1, imageSize: 6, norm: { mean: [0.5], std: [0.25] } });
  const host = await T.toHost(model.stateDict());
  const good = join(dir, 'good.safetensors');
  writeFileSync(good, T.encodeSafetensors(host, meta));
  host['fc2.weight'].data[17] = NaN;
  host['fc2.weight'].data[300] = Infinity;
  host['fc1.bias'].data[3] = -Infinity;
  const bad = join(dir, 'nan.safetensors');
  writeFileSync(bad, T.encodeSafetensors(host, meta));
  model.dispose();
  // the library: the loader throws a DataError (an InputError: exit 2 on the command line)
  const shape = { arch: 'mlp', numClasses: 10, inChannels: 1, imageSize: 6 };
  T.loadModelFile(good, shape).dispose();
  try {
    T.loadModelFile(bad, shape);
    assert.unreachable('should refuse');
  } catch (e) {
    assert.is(e.name, 'DataError', e.stack);
    assert.match(e.message, /nan\.safetensors: tensor 'fc1\.bias' holds -Infinity at index 3: a model or checkpoint with non-finite values cannot be used/);
  }
  // the command line
  const cli = (file) => spawnSync(process.execPath, [join(distDir, 'cli.js'), 'eval', '--data', data, '--arch', 'mlp', '--checkpoint', file], { encoding: 'utf8' });
  const ok = cli(good);
  assert.is(ok.status, 0, ok.stderr);
  const r = cli(bad);
  assert.is(r.status, 2, r.stderr);
  assert.match(r.stderr, /nan\.safetensors: tensor 'fc1\.bias' holds -Infinity at index 3/);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  assert.is(r.stdout, '', 'no accuracy printed');
});

test.run();
