// The trainer's checkpoint format and its one loader (src/train/checkpoint.ts, load.ts): a
// model file and a training checkpoint of one run load into the same model, what the metadata
// says is read in one place, and a file that does not fit is refused naming each tensor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { tensor, noGrad } from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const { train: T, models, io } = lib;
const data = tmp();
writeIdxSet(data, { n: 48, m: 16, h: 8, w: 8 });
const shape = { numClasses: 10, inChannels: 1, imageSize: 8 };

const run = tmp();
await T.train({
  data, out: run, arch: 'MLP', loss: 'ce', epochs: 1, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', seed: 4, progress: 'none', log: () => {},
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
});
const modelFile = join(run, 'ce.safetensors');
const ckptFile = join(run, 'checkpoint-ce.safetensors');
const x = tensor(Float32Array.from({ length: 3 * 64 }, (_, i) => Math.sin(i * 0.7)), [3, 1, 8, 8]);
const logits = async (m) => (await noGrad(() => m.forward(x)).read());

test('metadata: the kind of file, the architecture as printed, the data shape and normalisation', () => {
  const mf = T.readCheckpoint(modelFile);
  assert.is(mf.prefix, '');
  assert.equal({ ...mf.info, norm: undefined }, { kind: 'model', arch: 'mlp', stage: 'ce', numClasses: 10, inChannels: 1, imageSize: 8, norm: undefined });
  assert.is(mf.info.norm.mean.length, 1);
  assert.ok(mf.info.norm.std[0] > 0);
  const ck = T.readCheckpoint(ckptFile);
  assert.is(ck.prefix, 'model.');
  assert.is(ck.info.kind, 'checkpoint');
  assert.is(ck.info.epoch, 1);
  assert.equal(T.readCheckpointInfo(modelFile), mf.info, 'the header alone says the same');
  // a file of another format: only an architecture name is taken from it
  assert.equal(T.checkpointInfo({ format: 'pt', arch: 'LeNet5' }), { kind: 'state-dict', arch: 'lenet5' });
  assert.equal(T.checkpointInfo({ arch: 'vgg' }), { kind: 'state-dict' });
  assert.equal(T.checkpointInfo(null), { kind: 'state-dict' });
  // one that holds the trainer's fields without its format was damaged
  assert.throws(() => T.checkpointInfo({ arch: 'lenet5', image_size: '28', norm: '{}' }, 'f.safetensors'), (e) => e instanceof lib.DataError && /^f\.safetensors: metadata field 'format': \(missing\), but the file holds the trainer's fields \(image_size, norm\)/.test(e.message));
});

test('a model file and a training checkpoint of one run load into the same model', async () => {
  const a = T.loadModelFile(modelFile, { arch: 'mlp', ...shape, matchClasses: true });
  const b = T.loadModelFile(ckptFile, { arch: 'Mlp', ...shape, matchClasses: true });
  assert.is(a.training, false, 'loaded for inference (eval mode)');
  const [za, zb] = [await logits(a), await logits(b)];
  assert.equal([...zb], [...za]);
  const fresh = models.createModel('mlp', { ...shape, seed: 123 }).eval();
  assert.ok((await logits(fresh)).some((v, i) => v !== za[i]), 'the weights came from the file');
  // loadInto (the trainer's resume path) gives the same
  T.loadInto(fresh, T.readCheckpoint(ckptFile).tensors, 'model.', ckptFile, 'mlp');
  assert.equal([...(await logits(fresh))], [...za]);
  // a checkpoint whose metadata was stripped is still recognised by its keys
  const ck = T.readCheckpoint(ckptFile);
  const bare = join(tmp(), 'bare.safetensors');
  writeFileSync(bare, T.encodeSafetensors(ck.tensors));
  assert.is(T.readCheckpoint(bare).prefix, 'model.');
  const c = T.loadModelFile(bare, { arch: 'mlp', ...shape });
  assert.equal([...(await logits(c))], [...za]);
  [a, b, c, fresh].forEach((m) => m.dispose());
});

test('a file that does not fit is refused naming the file, the architecture and every offending tensor', async () => {
  const dir = tmp();
  const { tensors } = T.readCheckpoint(modelFile);
  const variant = (name, edit) => {
    const t = { ...tensors };
    edit(t);
    const p = join(dir, name);
    writeFileSync(p, T.encodeSafetensors(t));
    return p;
  };
  const refused = (path, o, pattern) => {
    assert.throws(() => T.loadModelFile(path, { arch: 'mlp', ...shape, ...o }), (e) => {
      assert.instance(e, lib.DataError, String(e));
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      assert.match(e.message, pattern);
      return true;
    });
  };
  refused(variant('extra.safetensors', (t) => (t['fc3.weight'] = t['fc2.weight'])), {}, /does not fit mlp .*:\n {2}unexpected tensors \(1\):\n {4}fc3\.weight/);
  refused(variant('missing.safetensors', (t) => delete t['fc1.bias']), {}, /missing tensors \(1\):\n {4}fc1\.bias/);
  const wide = { ...tensors['fc1.weight'], shape: [32, 128], data: new Float32Array(32 * 128) };
  refused(variant('shape.safetensors', (t) => (t['fc1.weight'] = wide)), {}, /shape or dtype mismatches \(1\):\n {4}fc1\.weight: \[32, 128\] f32 in the file, \[64, 64\] f32 in the model/);
  // the class count comes from the classifier; train and eval require the data's
  refused(modelFile, { numClasses: 7, matchClasses: true }, /is a mlp for 10 classes \(fc2\.weight \[10, 64\]\), the data has 7/);
  const seven = T.loadModelFile(modelFile, { arch: 'mlp', ...shape, numClasses: 7 });
  assert.equal(noGrad(() => seven.forward(x)).shape, [3, 10], 'without matchClasses the file\'s class count wins');
  seven.dispose();
  // a trainer's file says its architecture; a bare state dict is built as asked (and lenet5 refuses 8×8 images)
  refused(modelFile, { arch: 'lenet5' }, /metadata field 'arch': the file holds a mlp, .* is lenet5/);
  const bare = variant('bare.safetensors', () => {});
  assert.throws(() => T.loadModelFile(bare, { arch: 'lenet5', ...shape }), (e) => e instanceof models.ArchError && /lenet5 takes 28×28 images/.test(e.message));
  const junk = join(dir, 'junk.safetensors');
  writeFileSync(junk, 'not a safetensors file');
  assert.throws(() => T.readCheckpoint(junk), (e) => e instanceof lib.DataError && e.message.startsWith(`${junk}: `));
  assert.equal(T.readCheckpointInfo(junk), { kind: 'state-dict' }, 'the header-only read gives no information instead of failing');
});

test('MobileNetV2: the width comes from the file\'s channel counts, the class count from its classifier', async () => {
  // the trainer's small-input ×0.5 (whose 16-channel stem ×0.35 shares: the stem alone is not enough)
  const m = models.createModel('mobilenetv2', { numClasses: 6, inChannels: 1, imageSize: 16, seed: 3 }).eval();
  const p = join(tmp(), 'mb.safetensors');
  await io.saveSafetensors(p, m.stateDict());
  const xs = tensor(Float32Array.from({ length: 2 * 16 * 16 }, (_, i) => Math.cos(i)), [2, 1, 16, 16]);
  const loaded = T.loadModelFile(p, { arch: 'mobilenet_v2', numClasses: 10, inChannels: 1, imageSize: 16 });
  assert.equal(loaded.stateDict()['features.0.0.weight'].shape, [16, 1, 3, 3]);
  assert.equal(loaded.stateDict()['classifier.1.weight'].shape, [6, 1280]);
  const [want, got] = await Promise.all([m, loaded].map((n) => noGrad(() => n.forward(xs)).read()));
  assert.equal([...got], [...want]);
  [m, loaded].forEach((n) => n.dispose());
  xs.dispose();
});

test.after(() => x.dispose());
test.run();
