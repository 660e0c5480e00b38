// Memory for code that forgets scope(): a tensor that becomes unreachable without dispose() gives
// its GPU buffer back when the garbage collector finds it (FinalizationRegistry), its autograd
// node's saved tensors included; and the engine warns once when GPU work piles up unfinished or
// live GPU memory keeps growing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import lib, { tensor, gpu, distDir } from './helpers/lib.mjs';

test('tensors dropped without dispose() return their buffers once collected', () => {
  const child = fileURLToPath(new URL('./helpers/careless.mjs', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', child, distDir], { encoding: 'utf8', timeout: 120000 });
  assert.is(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.ok(m.leaked > m.before + 50, `the loop holds many buffers before collection (${JSON.stringify(m)})`);
  // a few may stay reachable from the last iteration's stack
  assert.ok(m.after <= m.before + 8, `after gc the buffers in use are back near the start (${JSON.stringify(m)})`);
});

test('work queued without waiting for the GPU: one warning naming the fix', async () => {
  await gpu().sync();
  const warnings = [];
  const prev = gpu().onWarning;
  gpu().onWarning = (m) => warnings.push(m);
  try {
    const t = tensor(new Float32Array(8).fill(1), [8]);
    for (let i = 0; i < 100; i++) {
      t.detachedView([8]).dispose();
      lib.ops.fillInPlace(t, i);
      gpu().flush(); // a submit per iteration, none seen finished: the event loop never turns here
    }
    assert.is(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /batches of GPU work are queued and not finished.*await gpu\(\)\.sync\(\)/);
    await gpu().sync();
    t.dispose();
  } finally {
    gpu().onWarning = prev;
  }
});

test('live GPU memory growing at every sample: one warning naming scope()', async () => {
  await gpu().sync();
  const warnings = [];
  const prev = gpu().onWarning;
  gpu().onWarning = (m) => warnings.push(m);
  const kept = [];
  try {
    // 1,100 submits, each after a new 320 KiB tensor that stays reachable: > 256 MB of growth
    for (let i = 0; i < 1100; i++) {
      kept.push(lib.zeros([80 * 1024]));
      gpu().flush();
      if (i % 50 === 0) await gpu().sync();
    }
    const growth = warnings.filter((w) => /GPU memory in use keeps growing/.test(w));
    assert.is(growth.length, 1, warnings.join('\n'));
    assert.match(growth[0], /Run each step inside scope\(/);
  } finally {
    for (const t of kept) t.dispose();
    gpu().onWarning = prev;
    await gpu().sync();
  }
});

test.run();
