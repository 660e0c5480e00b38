// Child process of test/misuse.test.mjs (run with --expose-gc): uses tensors, a model and its
// optimizer across shutdown() and a second init(), and prints one JSON line: the message of every
// misuse (or 'no error'), and pool statistics around the stale tensors' disposal.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
const lib = await import(pathToFileURL(`${resolve(process.argv[2])}/index.js`).href);
const { init, shutdown, gpu, tensor, ops, models, optim, losses } = lib;

const msg = async (fn) => {
  try {
    await fn();
    return 'no error';
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
};
const out = {};
await init();
const x = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
const loss = ops.sum(ops.mul(x, x));
const model = models.lenet5({ numClasses: 10, seed: 1 });
const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
// garbage for the finalizer: tensors dropped without dispose(), collected after shutdown()
for (let i = 0; i < 50; i++) ops.exp(x);
await shutdown();
out.readAfterShutdown = await msg(() => x.read());
out.createAfterShutdown = await msg(() => tensor([1], [1]));
out.disposeAfterShutdown = await msg(() => x.detachedView([4]).dispose());
globalThis.gc();
await new Promise((r) => setTimeout(r, 20)); // finalizers of the dropped tensors run here: no crash
await init();
const y = tensor([1, 1, 1, 1], [2, 2]);
const inp = tensor(new Float32Array(2 * 784).fill(0.5), [2, 1, 28, 28]);
gpu().flush();
const before = gpu().memory();
out.opOldNew = await msg(() => ops.add(x, y));
out.opNewOld = await msg(() => ops.mul(y, x));
out.readAfterInit = await msg(() => x.read());
out.backwardOld = await msg(() => loss.backward());
out.stepOld = await msg(() => opt.step());
out.zeroGradOld = await msg(() => opt.zeroGrad());
out.forwardOld = await msg(() => model.forward(inp));
out.fillOld = await msg(() => ops.fillInPlace(x, 0));
// stale tensors and the stale optimizer go without touching the new device's pool
x.dispose();
loss.dispose();
opt.dispose();
model.dispose();
globalThis.gc();
await new Promise((r) => setTimeout(r, 20));
gpu().flush();
const after = gpu().memory();
out.pool = { before, after };
// the new device works
out.newWorks = Array.from(await ops.add(y, y).read()).join(',');
const m2 = models.lenet5({ numClasses: 10, seed: 1 });
const o2 = new optim.SGD(m2.parameters(), { lr: 0.1 });
const l2 = losses.crossEntropy(m2.forward(tensor(new Float32Array(2 * 784).fill(0.5), [2, 1, 28, 28])), tensor([1, 2], [2], { dtype: 'i32' }));
l2.backward();
o2.step();
out.newLoss = Number.isFinite(await l2.item());
await shutdown();
console.log(JSON.stringify(out));
