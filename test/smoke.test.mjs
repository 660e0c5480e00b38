import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, gpu } from './helpers/lib.mjs';
import { rng, checkGrad, assertClose } from './helpers/ref.mjs';

test('adapter is available', () => {
  const info = gpu().info;
  assert.type(info.vendor, 'string');
  assert.type(info.isSoftware, 'boolean');
});

test('broadcast add/mul gradient by finite differences', async () => {
  const r = rng(3);
  await checkGrad({
    inputs: [r.uniform(15), r.uniform(5)],
    shapes: [[3, 5], [5]],
    engine: (a, b) => ops.sum(ops.mul(ops.add(a, b), a)),
    ref: (a, b) => {
      let s = 0;
      for (let i = 0; i < 15; i++) s += (a[i] + b[i % 5]) * a[i];
      return s;
    },
  });
});

test('tensor round trip', async () => {
  const t = tensor([1, 2, 3], [3]);
  assertClose(await t.read(), [1, 2, 3]);
  t.dispose();
});

test.run();
