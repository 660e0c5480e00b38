// Child process of test/memory-loose.test.mjs: ops whose outputs are kept, in one synchronous loop
// that never lets the event loop turn, until the engine refuses to go on; prints one JSON line
// (the iteration and the error), or { crashed: false, error: null } if it never refuses.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
const lib = await import(pathToFileURL(`${resolve(process.argv[2])}/index.js`).href);
const { init, tensor, ops, gpu } = lib;
await init();
gpu().onWarning = () => {};
const x = tensor([1, 2, 3, 4], [4]);
const kept = [];
let i = 0;
let error = null;
try {
  for (; i < 40000; i++) {
    kept.push(ops.exp(x)); // a new buffer and a new bind group each
    if (i % 400 === 0) gpu().flush();
  }
} catch (e) {
  error = `${e.name}: ${e.message}`;
}
console.log(JSON.stringify({ iterations: i, error }));
await gpu().sync();
await lib.shutdown();
