// Library misuse gets the engine's own errors, naming what was wrong and what to do: tensors,
// models and optimizers of a device that shutdown() released (ops, read(), backward, step; in a
// child process, which cycles its device), a disposed parameter in the optimizer, the optimizer
// after dispose(), init() asking for other options than the device has, backward() twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import lib, { init, gpu, tensor, ops, optim, distDir } from './helpers/lib.mjs';

const { models, losses } = lib;

const RELEASED = /belongs to a GPU device that shutdown\(\) released: its data is gone\. Read what you need before shutdown\(\), and create tensors \(and models, optimizers\) again after init\(\)/;

test('tensors, models and optimizers of a released device: refused by ops, read(), backward and the optimizer; the new device is untouched', () => {
  const child = fileURLToPath(new URL('./helpers/misuse-device.mjs', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', child, distDir], { encoding: 'utf8', timeout: 120000 });
  assert.is(r.status, 0, `the child failed (a finalizer running after shutdown() must not throw):\n${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  const expect = {
    readAfterShutdown: /^OpError: read: tensor #\d+ \[2, 2\] /,
    readAfterInit: /^OpError: read: tensor #\d+ \[2, 2\] /,
    opOldNew: /^OpError: add: argument 'a' \(tensor #\d+ \[2, 2\]\) /,
    opNewOld: /^OpError: mul: argument 'b' \(tensor #\d+ \[2, 2\]\) /,
    backwardOld: /^OpError: backward: tensor #\d+ \[\] /,
    stepOld: /^OpError: SGD\.step: parameter 'conv1\.weight' \[6, 1, 5, 5\] /,
    zeroGradOld: /^OpError: SGD\.zeroGrad: parameter 'conv1\.weight' \[6, 1, 5, 5\] /,
    forwardOld: /^OpError: conv2d: argument 'weight' \(tensor #\d+ \[6, 1, 5, 5\]\) /,
    fillOld: /^OpError: fill_: argument 't' \(tensor #\d+ \[2, 2\]\) /,
  };
  for (const [k, re] of Object.entries(expect)) {
    assert.match(m[k], re, `${k}: ${m[k]}`);
    assert.match(m[k], RELEASED, `${k}: ${m[k]}`);
  }
  assert.match(m.createAfterShutdown, /^FocusnetError: focusnet: the GPU device was released by shutdown\(\); call `await init\(\)` again before creating tensors/);
  assert.is(m.disposeAfterShutdown, 'no error', 'disposing a stale tensor is harmless');
  assert.equal(m.pool.after, m.pool.before, "disposing stale tensors, model and optimizer leaves the new device's pool alone");
  assert.is(m.newWorks, '2,2,2,2');
  assert.ok(m.newLoss, 'a model trains on the new device');
});

function setup() {
  const model = models.lenet5({ numClasses: 10, seed: 1 });
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  return { model, opt };
}

test('a disposed parameter in opt.step() and opt.zeroGrad(): an error naming it, before any update', async () => {
  const { model, opt } = setup();
  const fc = model.parameters().find((p) => p.name === 'fc3.weight');
  const before = await model.parameters()[0].read();
  fc.dispose();
  const re = new RegExp(`parameter 'fc3\\.weight' \\[10, 84\\] was disposed \\(dispose\\(\\) on it or on its model\\) but this optimizer still updates it; dispose the optimizer together with its model, or create a new optim\\.SGD over the parameters you keep`);
  assert.throws(() => opt.step(), (e) => e.name === 'OpError' && /^SGD\.step: /.test(e.message) && re.test(e.message));
  assert.throws(() => opt.zeroGrad(), (e) => /^SGD\.zeroGrad: /.test(e.message) && re.test(e.message));
  try {
    await opt.stateDict();
    assert.unreachable('stateDict() should refuse');
  } catch (e) {
    assert.match(e.message, re);
  }
  assert.equal(Array.from(await model.parameters()[0].read()), Array.from(before), 'no parameter was updated');
  opt.dispose();
  model.dispose();
});

test('the optimizer after dispose(): refused, saying to create a new one; its model is gone with it', async () => {
  const { model, opt } = setup();
  opt.dispose();
  opt.dispose(); // twice is harmless
  const re = /this optimizer was disposed \(dispose\(\) gave its parameter arenas back\); create a new optim\.SGD over live parameters/;
  assert.throws(() => opt.step(), (e) => /^SGD\.step: /.test(e.message) && re.test(e.message));
  assert.throws(() => opt.zeroGrad(), re);
  try {
    await opt.firstNonFinite();
    assert.unreachable();
  } catch (e) {
    assert.match(e.message, re);
  }
  assert.throws(() => model.forward(tensor(new Float32Array(784).fill(0.5), [1, 1, 28, 28])), /conv2d: argument 'weight' \(tensor #\d+ \[6, 1, 5, 5\]\) was used after dispose\(\)/);
  model.dispose();
});

test('init() again: the same (or no) options give the current device, other options an error saying to shutdown() first', async () => {
  const g = gpu();
  assert.is(await init(), g);
  assert.is(await init({ powerPreference: 'high-performance', forceFallbackAdapter: false }), g, 'the defaults spelled out are the same options');
  const refused = async (opts, re) => {
    try {
      await init(opts);
      assert.unreachable(`init(${JSON.stringify(opts)}) should be refused`);
    } catch (e) {
      assert.is(e.name, 'FocusnetError', e.stack);
      assert.match(e.message, re);
    }
  };
  const shut = /call `await shutdown\(\)` first to get a device with other options/;
  await refused({ powerPreference: 'low-power' }, /^init: the GPU is already initialized with powerPreference "high-performance", and this call asks for "low-power"/);
  await refused({ powerPreference: 'low-power' }, shut);
  await refused({ forceFallbackAdapter: true }, /^init: the GPU is already initialized with forceFallbackAdapter false, and this call asks for true/);
  await refused({ checkEachDispatch: !g.checkEachDispatch }, /checkEachDispatch .*\(or set `gpu\(\)\.checkEachDispatch` at any time\)/);
  await refused({ gpu: {} }, /with gpu the host's, and this call asks for another GPU object/);
  await refused({ powerPrefrence: 'low-power' }, /^init: unknown option 'powerPrefrence'; options: gpu, powerPreference, forceFallbackAdapter, checkEachDispatch/);
  await refused(null, /^init: options must be an object, got null/);
  assert.is(gpu(), g, 'the device is unchanged');
});

test('backward() twice through the same graph: an error saying the graph was freed and to run the forward pass again', async () => {
  const x = tensor([1, -2, 3], [3], { requiresGrad: true });
  const loss = ops.sum(ops.mul(ops.exp(x), x));
  loss.backward();
  const g1 = Array.from(await x.grad.read());
  assert.throws(
    () => loss.backward(),
    (e) => e.name === 'OpError' && /^backward: the graph through 'sum' was already freed \(backward called twice, or the scope that built it has ended\); run the forward pass again to backpropagate again$/.test(e.message),
  );
  assert.equal(Array.from(await x.grad.read()), g1, 'the refused backward left .grad alone');
  // and through a model: the second backward of a training step
  const { model, opt } = setup();
  const l = losses.crossEntropy(model.forward(tensor(new Float32Array(2 * 784).fill(0.25), [2, 1, 28, 28])), tensor([3, 4], [2], { dtype: 'i32' }));
  opt.zeroGrad();
  l.backward();
  assert.throws(() => l.backward(), /^backward: the graph through '\w+' was already freed .*run the forward pass again/);
  opt.dispose();
  model.dispose();
});

test.run();
