// Child process of test/memory-careless.test.mjs (run with --expose-gc): a step loop that never
// disposes and never uses scope(); prints one JSON line of pool statistics.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
const dist = resolve(process.argv[2]);
const lib = await import(pathToFileURL(`${dist}/index.js`).href);
const { init, tensor, ops, gpu } = lib;
await init();
const x = tensor(Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i)), [64, 64], { requiresGrad: true });
const before = gpu().memory();
for (let i = 0; i < 200; i++) {
  // intermediates, a node with saved tensors, and a gradient: nothing disposed
  const y = ops.sum(ops.mul(ops.relu(x), ops.exp(x)));
  y.backward();
  x.grad.dispose();
  x.grad = null;
}
// counted before any await: finalizers run only when the event loop turns, so nothing of the
// loop's garbage can have come back yet (with awaits inside the loop, V8 may collect some of it
// early, and the count depends on the machine's load)
const leaked = gpu().memory();
await gpu().sync();
globalThis.gc();
await new Promise((r) => setTimeout(r, 50)); // finalizers run between tasks
globalThis.gc();
await new Promise((r) => setTimeout(r, 50));
gpu().flush(); // released buffers become reusable after a submit
const after = gpu().memory();
console.log(JSON.stringify({ before: before.buffersInUse, leaked: leaked.buffersInUse, after: after.buffersInUse }));
await lib.shutdown();
