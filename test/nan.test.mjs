// NaN propagates as in PyTorch: relu / relu6 (both vector widths) keep NaN, and their gradient
// passes where the output is NaN; max and argmax take the first NaN along the axis. A model whose
// weights went NaN must not look like a plausible one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops } from './helpers/lib.mjs';

const same = (got, want, what) => {
  assert.is(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Object.is(got[i], want[i]) || (got[i] === want[i]), `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
};

test('relu and relu6 keep NaN (scalar and vec4 kernels) and pass its gradient', async () => {
  for (const n of [7, 8]) {
    const v = [1, NaN, -2, 0.5, NaN, 7, -1, 3].slice(0, n);
    const x = tensor(v, [n], { requiresGrad: true });
    same(Array.from(await ops.relu(x).read()), v.map((a) => (Number.isNaN(a) ? NaN : Math.max(a, 0))), `relu n=${n}`);
    same(Array.from(await ops.relu6(x).read()), v.map((a) => (Number.isNaN(a) ? NaN : Math.min(Math.max(a, 0), 6))), `relu6 n=${n}`);
    ops.sum(ops.relu(x)).backward();
    // PyTorch: threshold_backward passes g where the output is not <= 0 (NaN included)
    same(Array.from(await x.grad.read()), v.map((a) => (a <= 0 ? 0 : 1)), `relu grad n=${n}`);
  }
});

test('max and argmax propagate NaN: the first NaN along the axis wins', async () => {
  const x = tensor([1, NaN, 0.5, 2, NaN, 9, 3, NaN, 4], [3, 3]);
  same(Array.from(await ops.argmax(x, -1).read()), [1, 1, 1], 'argmax rows');
  same(Array.from(await ops.max(x, 1).read()), [NaN, NaN, NaN], 'max rows');
  same(Array.from(await ops.argmax(x, 0).read()), [2, 0, 1], 'argmax columns (the second is all NaN)');
  same(Array.from(await ops.argmax(tensor([0.25, -1, 0.5], [3]), -1).read()), [2], 'no NaN: the maximum');
});

test.run();
