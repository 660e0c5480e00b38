// Visualization on the real networks: the feature/classifier split of each
// architecture reproduces its forward pass, CAM and Grad-CAM agree where they must,
// `focusnet cam` draws a figure from LeNet-5 checkpoints, a checkpoint that does not fit
// the architecture exits 2 naming the keys, and the report computes predictions from a
// run's checkpoints when predictions.json is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lib, { tensor } from './helpers/lib.mjs';
import { rng, assertClose } from './helpers/ref.mjs';
import { writeIdxSet } from './helpers/datasets.mjs';

const { viz, models, io } = lib;

function captureErr(fn) {
  const orig = console.error;
  const origLog = console.log;
  let text = '';
  console.error = (...a) => (text += a.join(' ') + '\n');
  console.log = () => {};
  const restore = () => ((console.error = orig), (console.log = origLog));
  return fn().then(
    (rc) => (restore(), { rc, text }),
    (e) => {
      restore();
      throw e;
    },
  );
}

test('each architecture\'s split reproduces forward(x); CAM and Grad-CAM agree on GAP + linear heads', async () => {
  const r = rng(3);
  const cases = [
    ['lenet5', models.lenet5({ numClasses: 10 }), [1, 1, 28, 28]],
    ['resnet18', models.resnet18({ numClasses: 7, inChannels: 1, smallInput: true }), [1, 1, 12, 12]],
    ['mobilenetV2', models.mobilenetV2({ numClasses: 5, smallInput: true, widthMult: 0.25 }), [1, 3, 16, 16]],
  ];
  for (const [arch, model, shape] of cases) {
    model.eval();
    const x = tensor(r.uniform(shape.reduce((a, b) => a * b), -1, 1), shape);
    const split = viz.splitModel(arch, model);
    await viz.verifySplit(model, split, x, arch); // throws when head(features(x)) ≠ forward(x)
    const res = await viz.classActivationMaps(split, x, [0, 2]);
    assert.is(res.method, arch === 'lenet5' ? 'gradcam' : 'cam', arch);
    assert.equal(res.maps[0].length, shape[2] * shape[3]);
    for (const m of res.maps) for (const v of m) assert.ok(Number.isFinite(v) && v >= 0, `${arch}: map values must be finite and ≥ 0`);
    if (arch !== 'lenet5') {
      const g = await viz.classActivationMaps(split, x, [0, 2], { method: 'gradcam' });
      const [h, w] = res.featureSize;
      for (let k = 0; k < 2; k++) assertClose(g.maps[k], res.maps[k].map((v) => v / (h * w)), { rtol: 1e-3, atol: 1e-6, what: `${arch} Grad-CAM vs CAM/(h·w), class ${k}` });
    }
    const other = arch === 'lenet5' ? 'resnet18' : 'lenet5';
    assert.throws(() => viz.splitModel(other, model), /cannot split/, `${arch} split as ${other}`);
    x.dispose();
    model.dispose();
  }
});

test('cam: LeNet-5 baseline and FocusNet checkpoints give a figure; a checkpoint that does not fit exits 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viz-cam-'));
  writeIdxSet(dir, { n: 12, m: 12, h: 28, w: 28 });
  const b = models.lenet5({ numClasses: 10, seed: 1 });
  const f = models.lenet5({ numClasses: 10, seed: 2 });
  await io.saveSafetensors(join(dir, 'baseline.safetensors'), b.stateDict(), { arch: 'lenet5' });
  await io.saveSafetensors(join(dir, 'focusnet.safetensors'), f.stateDict(), { arch: 'lenet5' });
  const out = join(dir, 'fig', 'cam.png');
  const { rc, text } = await captureErr(() => viz.runCam(['--checkpoint', join(dir, 'focusnet.safetensors'), '--baseline', join(dir, 'baseline.safetensors'), '--data', dir, '--index', '7', '--out', out]));
  assert.is(rc, 0, text);
  const fig = viz.Canvas.readPng(out);
  assert.ok(fig.width >= 3 * 140 && fig.height >= 140 + 40, `figure is ${fig.width}×${fig.height}`);

  // a LeNet-5 for 3-channel input: conv1.weight has the wrong shape
  const wrong = models.lenet5({ numClasses: 10, inChannels: 3 });
  await io.saveSafetensors(join(dir, 'rgb.safetensors'), wrong.stateDict());
  const r2 = await captureErr(() => viz.runCam(['--arch', 'lenet5', '--checkpoint', join(dir, 'rgb.safetensors'), '--data', dir, '--index', '0', '--out', join(dir, 'x.png')]));
  assert.is(r2.rc, 2);
  assert.match(r2.text, /rgb\.safetensors: does not fit lenet5/);
  assert.match(r2.text, /conv1\.weight/);
  // a LeNet-5 checkpoint read as a ResNet-18: missing keys are named
  const r3 = await captureErr(() => viz.runCam(['--arch', 'resnet18', '--checkpoint', join(dir, 'baseline.safetensors'), '--data', dir, '--index', '0', '--out', join(dir, 'y.png')]));
  assert.is(r3.rc, 2);
  assert.match(r3.text, /does not fit resnet18/);
  assert.match(r3.text, /layer1\.0\.conv1\.weight/);
  assert.not.ok(existsSync(join(dir, 'x.png')) || existsSync(join(dir, 'y.png')), 'no figure after a failure');
  [b, f, wrong].forEach((m) => m.dispose());
});

test('report: predictions computed from the run\'s checkpoints when predictions.json is missing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viz-runpred-'));
  const data = join(dir, 'data');
  const run = join(dir, 'run');
  for (const d of [data, run]) mkdirSync(d);
  writeIdxSet(data, { n: 20, m: 20, h: 28, w: 28 });
  for (const [name, seed] of [['baseline', 4], ['focusnet', 5]]) {
    const m = models.lenet5({ numClasses: 10, seed });
    await io.saveSafetensors(join(run, `${name}.safetensors`), m.stateDict(), { arch: 'lenet5' });
    m.dispose();
  }
  writeFileSync(join(run, 'metrics.jsonl'), '{"stage":"baseline","epoch":1,"loss":2.3,"test_top1":10}\n{"stage":"focusnet","epoch":1,"loss":2.4,"test_top1":12}\n');
  const { rc, text } = await captureErr(() => viz.runReport(['--run', run, '--data', data, '--arch', 'lenet5']));
  assert.is(rc, 0, text);
  for (const f of ['confusion_baseline.png', 'confusion_focusnet.png', 'index.html']) assert.ok(existsSync(join(run, f)), `missing ${f}`);
  // the predictions are each checkpoint's argmax over the test split, in order (reference: batches of 7, one readback each)
  const p = await viz.predictionsFromCheckpoints(run, data, 'lenet5');
  const ds = viz.openDataSet(data);
  const loader = ds.loader(ds.stats(), 7);
  for (const [name, seed] of [['baseline', 4], ['focusnet', 5]]) {
    const m = models.lenet5({ numClasses: 10, seed }).eval();
    const want = [];
    for (let k = 0; k < loader.batchCount; k++) {
      const { x, size } = loader.batch(k);
      const z = await m.forward(tensor(x, [size, 1, 28, 28])).read();
      for (let i = 0; i < size; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (z[i * 10 + c] > z[i * 10 + best]) best = c;
        want.push(best);
      }
    }
    m.dispose();
    assert.equal(p[name], want, `${name} predictions`);
  }
  assert.equal(p.labels, Array.from(ds.labels));
});

test.run();
