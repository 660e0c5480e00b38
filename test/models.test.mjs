// Models: torchvision keys, shapes and parameter counts; equality with torch's
// eval (and training-mode) outputs on committed fixtures; output shapes at small
// inputs; a few SGD steps lower the loss; train and eval differ through batchnorm.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import lib, { tensor, scope, noGrad, optim } from './helpers/lib.mjs';
import { rng, assertClose } from './helpers/ref.mjs';

const { nn, models, ops, io } = lib;
const FIX = new URL('./fixtures/', import.meta.url).pathname;
const TV = JSON.parse(readFileSync(FIX + 'torchvision_keys.json', 'utf8'));

function keysAndShapes(m) {
  return Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.shape]]);
}

test('parameter counts, keys and shapes equal torchvision (resnet18/34, mobilenet_v2 ×1 and ×0.5)', () => {
  const cases = [
    ['resnet18', () => models.resnet18(), 11689512],
    ['resnet34', () => models.resnet34(), 21797672],
    ['mobilenet_v2', () => models.mobilenetV2(), 3504872],
    ['mobilenet_v2_w0.5_c10', () => models.mobilenetV2({ widthMult: 0.5, numClasses: 10 }), TV['mobilenet_v2_w0.5_c10'].params],
  ];
  for (const [name, make, count] of cases) {
    const m = make();
    assert.is(m.numParameters(), count, `${name} parameter count`);
    assert.is(TV[name].params, count);
    assert.equal(keysAndShapes(m), TV[name].keys, `${name} keys and shapes`);
    m.dispose();
  }
  assert.is(models.makeDivisible(32 * 0.5), 16);
  assert.is(models.makeDivisible(24 * 0.75), 24);
  assert.is(models.makeDivisible(1280 * 0.35), 448);
});

function loadFixture(name) {
  return io.loadSafetensors(FIX + name + '.safetensors');
}
function free(d) {
  for (const t of Object.values(d)) t.dispose();
}

test('LeNet-5 loaded from torch gives torch’s output', async () => {
  const m = models.lenet5().eval();
  const sd = loadFixture('lenet5');
  const xio = loadFixture('lenet5_io');
  m.loadStateDict(sd);
  const y = noGrad(() => scope(() => m.forward(xio.input)));
  assert.equal(y.shape, [3, 10]);
  assertClose(await y.read(), await xio.output.read(), { rtol: 1e-4, atol: 1e-4, what: 'lenet5 output' });
  y.dispose(); free(sd); free(xio); m.dispose();
});

test('torchvision BasicBlock (downsample): eval output, training output and running stats equal torch', async () => {
  const block = new models.BasicBlock(16, 32, 2, new nn.Rng(0));
  const sd = loadFixture('block');
  const xio = loadFixture('block_io');
  block.loadStateDict(sd);
  block.eval();
  const ye = noGrad(() => scope(() => block.forward(xio.input)));
  assert.equal(ye.shape, [2, 32, 5, 5]);
  assertClose(await ye.read(), await xio.eval.read(), { rtol: 1e-4, atol: 1e-4, what: 'eval output' });
  block.train();
  const yt = noGrad(() => scope(() => block.forward(xio.input)));
  const et = await xio.train.read();
  assertClose(await yt.read(), et, { rtol: 1e-4, atol: 1e-4, what: 'training output (batch statistics)' });
  const ee = await xio.eval.read();
  let diff = 0;
  for (let i = 0; i < ee.length; i++) diff = Math.max(diff, Math.abs(ee[i] - et[i]));
  assert.ok(diff > 0.05, `train and eval differ (${diff})`);
  const after = block.stateDict();
  for (const k of Object.keys(after)) {
    if (!/running|num_batches/.test(k)) continue;
    assertClose(await after[k].read(), await xio['after.' + k].read(), { rtol: 1e-4, atol: 1e-5, what: k });
  }
  assert.is((await after['bn1.num_batches_tracked'].read())[0], 8);
  ye.dispose(); yt.dispose(); free(sd); free(xio); block.dispose();
});

test('torchvision InvertedResidual (expand 6, depthwise, residual) equals torch in eval', async () => {
  const blk = new models.InvertedResidual(16, 16, 1, 6, new nn.Rng(0));
  const sd = loadFixture('invres');
  const xio = loadFixture('invres_io');
  blk.loadStateDict(sd);
  blk.eval();
  const y = noGrad(() => scope(() => blk.forward(xio.input)));
  assertClose(await y.read(), await xio.output.read(), { rtol: 1e-4, atol: 1e-4, what: 'inverted residual' });
  y.dispose(); free(sd); free(xio); blk.dispose();
});

function input(shape, seed) {
  return tensor(Float32Array.from(rng(seed).randn(shape.reduce((a, b) => a * b, 1))), shape);
}

test('output shapes at small inputs, batch 2', () => {
  const cases = [
    ['lenet5', () => models.lenet5(), [2, 1, 28, 28], [2, 10]],
    ['lenet5 3-channel', () => models.lenet5({ inChannels: 3, numClasses: 7 }), [2, 3, 28, 28], [2, 7]],
    ['resnet18 small', () => models.resnet18({ numClasses: 10, smallInput: true }), [2, 3, 32, 32], [2, 10]],
    ['resnet34 small', () => models.resnet34({ numClasses: 100, smallInput: true }), [2, 3, 8, 8], [2, 100]],
    ['resnet18', () => models.resnet18({ numClasses: 5, inChannels: 1 }), [2, 1, 32, 32], [2, 5]],
    ['mobilenetV2 ×0.5 small', () => models.mobilenetV2({ widthMult: 0.5, numClasses: 10, smallInput: true }), [2, 3, 32, 32], [2, 10]],
    ['mobilenetV2 ×0.5', () => models.mobilenetV2({ widthMult: 0.5, numClasses: 10 }), [2, 3, 32, 32], [2, 10]],
  ];
  for (const [name, make, xs, ys] of cases) {
    const m = make();
    for (const mode of ['train', 'eval']) {
      m[mode]();
      const shape = scope(() => {
        const y = m.forward(input(xs, 5));
        return [...y.shape];
      });
      assert.equal(shape, ys, `${name} (${mode})`);
    }
    m.dispose();
  }
});

function crossEntropy(logits, labels) {
  return ops.neg(ops.mean(ops.gather(ops.logSoftmax(logits, -1), labels)));
}

test('a few SGD steps on a fixed batch lower the loss (every model)', async () => {
  const cases = [
    ['lenet5', () => models.lenet5({ seed: 1 }), [8, 1, 28, 28], 10, 0.2],
    ['resnet18 small', () => models.resnet18({ numClasses: 10, smallInput: true, seed: 1 }), [4, 3, 8, 8], 10, 0.02],
    ['resnet34 small', () => models.resnet34({ numClasses: 10, smallInput: true, seed: 1 }), [4, 3, 8, 8], 10, 0.01],
    ['mobilenetV2 ×0.5 small', () => models.mobilenetV2({ widthMult: 0.5, numClasses: 10, smallInput: true, seed: 1, dropout: 0 }), [4, 3, 16, 16], 10, 0.05],
  ];
  for (const [name, make, xs, classes, lr] of cases) {
    const m = make().train();
    const x = input(xs, 21);
    const labels = tensor(Int32Array.from({ length: xs[0] }, (_, i) => (i * 3) % classes), [xs[0]], { dtype: 'i32' });
    const opt = new optim.SGD(m.parameters(), { lr, momentum: 0.9 });
    const losses = [];
    const t0 = Date.now();
    const steps = m.numParameters() > 1e7 ? 3 : 4; // the resnets: each step moves ~0.5 GB of arenas
    for (let s = 0; s < steps; s++) {
      const l = scope(() => {
        opt.zeroGrad();
        const loss = crossEntropy(m.forward(x), labels);
        loss.backward();
        opt.step();
        return loss;
      });
      losses.push(await l.item());
      l.dispose();
    }
    if (process.env.FOCUSNET_TEST_TIMES) console.log(`  ${name}: ${losses.length} steps in ${Date.now() - t0} ms`);
    assert.ok(losses.every(Number.isFinite), `${name}: finite losses ${losses}`);
    assert.ok(losses[steps - 1] < losses[0] * 0.97, `${name}: loss ${losses.map((v) => v.toFixed(4)).join(' → ')}`);
    opt.dispose();
    m.dispose();
    x.dispose();
    labels.dispose();
  }
});

test('batchnorm: train mode uses batch statistics and updates running stats; eval does not', async () => {
  const m = models.resnet18({ numClasses: 10, smallInput: true, seed: 4 });
  const x = input([2, 3, 8, 8], 9);
  const rm = m.stateDict()['layer2.0.bn1.running_mean'];
  const before = await rm.read();
  m.eval();
  const e1 = noGrad(() => scope(() => m.forward(x)));
  assert.equal([...(await rm.read())], [...before], 'eval leaves running stats');
  m.train();
  const t1 = noGrad(() => scope(() => m.forward(x)));
  const after = await rm.read();
  assert.not.equal([...after], [...before], 'training updates running stats');
  const a = await e1.read();
  const b = await t1.read();
  assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-3), 'train and eval outputs differ');
  assert.is((await m.stateDict()['bn1.num_batches_tracked'].read())[0], 1);
  e1.dispose(); t1.dispose(); x.dispose(); m.dispose();
});

test.run();
