// Memory for code that drops tensors without dispose() or scope() (src/tensor/loose.ts): once the
// GPU bytes of tensors no scope owns have grown by 64 MiB, the engine asks V8 for a collection, so
// they come back at the next await instead of whenever the JavaScript heap happens to fill; and the
// queued-work warning of a loop that neither awaits nor scopes says both what and how to fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import lib, { tensor, ops, gpu, scope, distDir } from './helpers/lib.mjs';

const child = fileURLToPath(new URL('./helpers/loose-loop.mjs', import.meta.url));
const run = (env = {}) => {
  const r = spawnSync(process.execPath, [child, distDir, '150'], { encoding: 'utf8', timeout: 120000, env: { ...process.env, ...env } });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
};

test('dropped tensors: GPU memory stays within the collection threshold plus the steps between two awaits', () => {
  // 2 MiB dropped per step, an await every 20 steps: at most ~64 + 20 * 2 MiB (+ the input) in use
  const on = run();
  assert.ok(on.collections >= 2, `the engine asked for collections (${JSON.stringify(on)})`);
  assert.ok(on.maxInUseMB <= 64 + 20 * 2 + 8, `GPU memory in use stayed bounded (${JSON.stringify(on)})`);
  // without the engine's request, V8 collects on its own (JavaScript heap) schedule: far later
  const off = run({ FOCUSNET_COLLECT_MB: '0' });
  assert.is(off.collections, 0);
  assert.ok(off.maxInUseMB > on.maxInUseMB, `V8's own schedule holds more (${JSON.stringify(off)} vs ${JSON.stringify(on)})`);
});

test('tensors owned by a scope, kept or disposed are not loose: a scoped loop asks for no collection', async () => {
  const before = lib.internal.looseStats();
  const x = tensor(Float32Array.from({ length: 512 * 1024 }, (_, i) => Math.cos(i)), [512 * 1024]);
  const afterX = lib.internal.looseStats();
  assert.is(afterX.bytes - before.bytes, 2 * 2 ** 20, 'a tensor created outside any scope is loose');
  for (let i = 0; i < 60; i++) scope(() => { ops.exp(ops.exp(x)); });
  const kept = lib.keep(ops.neg(x));
  const returned = scope(() => ops.exp(x)); // returned from the outermost scope: loose again
  assert.is(lib.internal.looseStats().bytes - afterX.bytes, 2 * 2 ** 20, 'only the returned tensor was added');
  returned.dispose();
  x.dispose();
  kept.dispose();
  const after = lib.internal.looseStats();
  assert.is(after.bytes, before.bytes);
  assert.is(after.collections, before.collections, '120 MiB made inside scopes asked for no collection');
  await gpu().sync();
});

test('a scoped loop that never awaits: after the first steps no new bind groups and no new buffers (batches begin at step boundaries)', async () => {
  await gpu().sync();
  const prev = gpu().onWarning;
  gpu().onWarning = () => {};
  const model = lib.models.lenet5({ numClasses: 10, seed: 2 });
  const opt = new lib.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = tensor(Float32Array.from({ length: 16 * 784 }, (_, i) => Math.sin(i)), [16, 1, 28, 28]);
  const y = tensor(Int32Array.from({ length: 16 }, (_, i) => i % 10), [16], { dtype: 'i32' });
  const step = () => scope(() => {
    opt.zeroGrad();
    lib.losses.crossEntropy(model.forward(x), y).backward();
    opt.step();
  });
  try {
    for (let i = 0; i < 3; i++) step();
    const c0 = { ...gpu().counters };
    const m0 = gpu().memory();
    for (let i = 0; i < 60; i++) step(); // 60 steps, no await: the event loop never turns
    const c1 = gpu().counters;
    const m1 = gpu().memory();
    assert.ok(c1.dispatches - c0.dispatches >= 60 * 32, 'the steps ran');
    assert.is(c1.bindGroups - c0.bindGroups, 0, 'no bind group created after warm-up');
    assert.is(m1.allocations - m0.allocations, 0, 'no buffer created after warm-up');
    assert.is(m1.bytesInUse, m0.bytesInUse);
  } finally {
    await gpu().sync();
    gpu().onWarning = prev;
    opt.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  }
});

test('a synchronous loop that piles up 50,000 GPU objects unprocessed: refused with an error naming the fix (not a driver crash)', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('./helpers/unturned-loop.mjs', import.meta.url)), distDir], { encoding: 'utf8', timeout: 120000 });
  assert.is(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.ok(m.iterations > 20000 && m.iterations < 26000, `refused after about 25,000 ops (a buffer and a bind group each): ${m.iterations}`);
  assert.match(m.error, /^FocusnetError: focusnet: 500\d\d GPU buffers and bind groups were created while the event loop never turned .*Wait for the GPU every few steps \(`await gpu\(\)\.sync\(\)`, or read a value\), and run each step inside scope\(/);
});

test('a loop that neither awaits nor scopes: one queued-work warning that names both fixes', async () => {
  await gpu().sync();
  const warnings = [];
  const prev = gpu().onWarning;
  gpu().onWarning = (m) => warnings.push(m);
  const kept = [];
  try {
    const x = tensor(new Float32Array(512 * 1024).fill(0.5), [512 * 1024]);
    for (let i = 0; i < 100; i++) {
      kept.push(ops.exp(x)); // 2 MiB a step, kept
      gpu().flush(); // a submit per iteration, none seen finished: the event loop never turns here
    }
    const queued = warnings.filter((w) => /batches of GPU work are queued/.test(w));
    assert.is(queued.length, 1, warnings.join('\n'));
    assert.match(queued[0], /await gpu\(\)\.sync\(\)/);
    assert.match(queued[0], /GPU memory in use also grew by \d+ MB meanwhile: tensors are kept without dispose\(\); run each step inside scope\(\(\) => \{ \.\.\. \}\) as well/);
    x.dispose();
  } finally {
    for (const t of kept) t.dispose();
    await gpu().sync();
    gpu().onWarning = prev;
  }
  // scoped but never awaited: the warning says to await, not to scope
  const again = [];
  gpu().onWarning = (m) => again.push(m);
  try {
    const x = tensor(new Float32Array(512 * 1024).fill(0.5), [512 * 1024]);
    for (let i = 0; i < 100; i++) {
      scope(() => {
        ops.exp(x);
      });
      gpu().flush();
    }
    assert.is(again.length, 1, again.join('\n'));
    assert.match(again[0], /batches of GPU work are queued/);
    assert.not.match(again[0], /scope\(/);
    x.dispose();
  } finally {
    await gpu().sync();
    gpu().onWarning = prev;
  }
});

test.run();
