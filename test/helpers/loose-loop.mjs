// Child process of test/memory-loose.test.mjs (no --expose-gc): a loop that drops 2 MiB of GPU
// tensors per step without dispose() or scope() and leaves little JavaScript garbage, awaiting the
// GPU every 20 steps; prints one JSON line: the most GPU bytes in use after any step, and the
// collections the engine asked for. FOCUSNET_COLLECT_MB=0 (env) turns the engine's request off.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
const lib = await import(pathToFileURL(`${resolve(process.argv[2])}/index.js`).href);
const { init, tensor, ops, gpu, internal } = lib;
await init();
const x = tensor(Float32Array.from({ length: 512 * 1024 }, (_, i) => Math.sin(i) * 0.01), [512 * 1024]);
let max = 0;
const steps = Number(process.argv[3] ?? 150);
for (let i = 1; i <= steps; i++) {
  ops.exp(x); // 2 MiB, dropped
  max = Math.max(max, gpu().memory().bytesInUse);
  if (i % 20 === 0) await gpu().sync();
}
console.log(JSON.stringify({ maxInUseMB: max / 2 ** 20, collections: internal.looseStats().collections, loose: internal.looseStats().bytes / 2 ** 20 }));
await lib.shutdown();
