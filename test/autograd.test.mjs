// The autograd tape: .grad accumulation, noGrad, shared nodes, errors, and the lifetime of
// what is saved for backward (released by backward, or by the scope that recorded it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, scope, noGrad, gpu, keep } from './helpers/lib.mjs';
import { assertClose } from './helpers/ref.mjs';
import lib from './helpers/lib.mjs';

const inUse = () => gpu().memory().bytesInUse;
const buffers = () => gpu().memory().buffersInUse;

test('.grad accumulates across two backward calls', async () => {
  const x = tensor([1, -2, 3], [3], { requiresGrad: true });
  ops.sum(ops.square(x)).backward(); // 2x
  assertClose(await x.grad.read(), [2, -4, 6]);
  ops.sum(ops.mul(x, 3)).backward(); // + 3
  assertClose(await x.grad.read(), [5, -1, 9]);
  x.dispose();
});

test('a tensor used by two ops gets the summed gradient', async () => {
  const xs = [0.5, -1.25, 2];
  const x = tensor(xs, [3], { requiresGrad: true });
  // y = x² + exp(x) + x → dy/dx = 2x + exp(x) + 1
  const y = ops.sum(ops.add(ops.add(ops.square(x), ops.exp(x)), x));
  y.backward();
  assertClose(await x.grad.read(), xs.map((v) => 2 * v + Math.exp(v) + 1), { rtol: 1e-5 });
  // a diamond: a = 2x; z = a·a + a → dz/dx = 2(2a + 1) = 8x + 2
  const x2 = tensor(xs, [3], { requiresGrad: true });
  const a = ops.mul(x2, 2);
  const z = ops.sum(ops.add(ops.mul(a, a), a));
  z.backward();
  assertClose(await x2.grad.read(), xs.map((v) => 8 * v + 2), { rtol: 1e-5 });
  for (const t of [x, y, x2, a, z]) t.dispose();
});

test('backward with an explicit gradient for a non-scalar output', async () => {
  const x = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
  const y = ops.mul(x, x);
  const g = tensor([1, 0, -1, 0.5], [2, 2]);
  y.backward(g);
  assertClose(await x.grad.read(), [2, 0, -6, 4]);
  for (const t of [x, y, g]) t.dispose();
});

test('an explicit gradient is shared, not copied: the .grad it reaches is the leaf\'s own', async () => {
  // reshape's backward hands the incoming gradient straight on, so the leaf receives the
  // caller's seed itself; it must keep a copy, and the seed stays the caller's.
  const x = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
  const y = ops.reshape(x, [4]);
  const g = tensor([1, 0, -1, 0.5], [4]);
  y.backward(g);
  ops.fillInPlace(g, 7);
  assertClose(await x.grad.read(), [1, 0, -1, 0.5]);
  assertClose(await g.read(), [7, 7, 7, 7]);
  g.dispose();
  assertClose(await x.grad.read(), [1, 0, -1, 0.5]);
  // the same with a seed of another shape but the same size
  const x2 = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
  const g2 = tensor([2, 2, 2, 2], [4]);
  ops.mul(x2, 3).backward(g2);
  g2.dispose();
  assert.equal(x2.grad.shape, [2, 2]);
  assertClose(await x2.grad.read(), [6, 6, 6, 6]);
  // an i32 or disposed seed is refused, not read as f32
  const x3 = tensor([1, 2], [2], { requiresGrad: true });
  const y3 = ops.mul(x3, 2);
  const gi = tensor([1, 1], [2], { dtype: 'i32' });
  assert.throws(() => y3.backward(gi), /backward: the gradient must be a live f32 tensor, got dtype i32/);
  const gd = tensor([1, 1], [2]);
  gd.dispose();
  assert.throws(() => y3.backward(gd), /backward: the gradient must be a live f32 tensor, got a disposed tensor/);
  for (const t of [x, y, x2, x3, y3, gi]) t.dispose();
});

test('only inputs with requiresGrad get gradients', async () => {
  const x = tensor([1, 2], [2], { requiresGrad: true });
  const c = tensor([3, 4], [2]);
  ops.sum(ops.mul(x, c)).backward();
  assertClose(await x.grad.read(), [3, 4]);
  assert.is(c.grad, null);
  assert.is(c.requiresGrad, false);
  x.dispose();
  c.dispose();
});

test('noGrad records nothing', async () => {
  const x = tensor([1, 2, 3], [3], { requiresGrad: true });
  const before = inUse();
  const e = noGrad(() => ops.exp(x));
  const y = noGrad(() => ops.sum(e));
  for (const t of [e, y]) {
    assert.is(t.requiresGrad, false);
    assert.is(t.node, null);
  }
  assert.is(lib.isGradEnabled(), true, 'recording resumes after noGrad');
  assert.throws(() => y.backward(), /backward: the tensor does not require grad/);
  e.dispose();
  y.dispose();
  assert.is(inUse(), before, 'nothing saved for backward under noGrad');
  // with grad on, exp saves its output for backward while a later node may still need it
  const e2 = ops.exp(x);
  const y2 = ops.sum(e2);
  e2.dispose();
  assert.ok(inUse() > before, 'recorded exp holds its output while sum uses it');
  y2.dispose(); // nothing can backpropagate through e2 any more
  assert.is(inUse(), before, 'disposing the last output frees the graph');
  // noGrad restores the state when fn throws
  assert.throws(() => noGrad(() => {
    throw new Error('boom');
  }), /boom/);
  assert.is(lib.isGradEnabled(), true);
  x.dispose();
});

test('backward on a non-scalar throws and names the shape', () => {
  const x = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
  const y = ops.exp(x);
  assert.throws(() => y.backward(), /backward: needs a scalar \(single-element\) tensor, got shape \[2, 2\]/);
  const g = tensor([1, 2, 3], [3]);
  assert.throws(() => y.backward(g), /backward: gradient shape \[3\] does not match tensor shape \[2, 2\]/);
  for (const t of [x, y, g]) t.dispose();
});

test('backward twice through the same graph throws', () => {
  const x = tensor([1, 2], [2], { requiresGrad: true });
  const y = ops.sum(ops.exp(x));
  y.backward();
  assert.throws(() => y.backward(), /backward: the graph through 'sum' was already freed/);
  x.dispose();
  y.dispose();
});

test('using a disposed tensor throws naming the op', async () => {
  const x = tensor([1, 2, 3], [3]);
  const y = tensor([1, 2, 3], [3]);
  x.dispose();
  x.dispose(); // twice is fine
  assert.ok(x.disposed);
  assert.throws(() => ops.exp(x), /exp: argument 'x' \(tensor #\d+ \[3\]\) was used after dispose\(\)/);
  assert.throws(() => ops.add(y, x), /add: argument 'b' \(tensor #\d+ \[3\]\) was used after dispose\(\)/);
  assert.throws(() => ops.add(x, 1), /affine: argument 'x' .* was used after dispose\(\)|add: .*dispose/);
  assert.throws(() => ops.matmul(x, y), /matmul: argument 'a' .*used after dispose\(\)/);
  assert.throws(() => ops.sum(x), /sum: argument 'x' .*used after dispose\(\)/);
  assert.throws(() => ops.reshape(x, [3, 1]), /reshape: argument 'x' .*used after dispose\(\)/);
  try {
    await x.read();
    assert.unreachable('read of a disposed tensor');
  } catch (e) {
    assert.match(e.message, /read: tensor #\d+ \[3\] was used after dispose\(\)/);
  }
  const z = tensor([1, 2], [2], { requiresGrad: true });
  const s = ops.sum(z);
  s.dispose();
  assert.throws(() => s.backward(), /backward: called on a disposed tensor/);
  y.dispose();
  z.dispose();
});

test('what is saved for backward is released by backward', async () => {
  const x = tensor(new Float32Array(4096).fill(0.5), [64, 64], { requiresGrad: true });
  const w = tensor(new Float32Array(4096).fill(0.25), [64, 64], { requiresGrad: true });
  const base = buffers();
  const forward = () => {
    const ts = [ops.matmul(x, w)];
    for (const f of [ops.relu, ops.tanh, ops.exp, ops.logSoftmax, (t) => ops.max(t, 1), ops.mean]) ts.push(f(ts.at(-1)));
    return ts;
  };
  // without backward, the graph holds what it saved while its output is alive ...
  const held = forward();
  for (const t of held.slice(0, -1)) t.dispose();
  assert.ok(buffers() > base + 1, 'saved tensors outlive their intermediates while the loss is alive');
  // ... and gives it back when the last output goes (nothing can backpropagate any more)
  held.at(-1).dispose();
  assert.is(buffers(), base, 'disposing the loss frees the whole graph');
  const mid = buffers();
  // backward through another graph; then disposing every output frees everything but .grad
  const ts = forward();
  ts.at(-1).backward();
  for (const t of ts) t.dispose();
  assert.is(buffers(), mid + 2, 'buffers in use after backward: only the two gradients are new');
  assert.is(x.grad.storage.bytes + w.grad.storage.bytes, 2 * 16384);
  x.dispose();
  w.dispose();
  assert.ok(x.grad === null && w.grad === null, 'dispose drops .grad');
  assert.is(buffers(), base - 2);
});

test('scope releases intermediates and nodes, keeps what it returns', async () => {
  const x = keep(tensor(new Float32Array(1000).fill(0.1), [10, 100], { requiresGrad: true }));
  const base = inUse();
  scope(() => {
    const y = ops.exp(ops.sigmoid(x));
    ops.sum(ops.mul(y, y));
  });
  assert.is(inUse(), base, 'nothing survives a scope that returns nothing');
  const loss = scope(() => ops.sum(ops.square(ops.tanh(x))));
  assert.ok(inUse() > base, 'the returned loss keeps its graph');
  assert.ok(loss.requiresGrad);
  loss.backward();
  const g = await x.grad.read();
  const t = Math.tanh(0.1);
  assertClose(g, new Array(1000).fill(2 * t * (1 - t * t)), { rtol: 1e-5 });
  loss.dispose();
  x.grad.dispose();
  x.grad = null;
  assert.is(inUse(), base, 'after backward and dispose everything is back');
  // nested scopes: the inner result moves to the outer scope, which then disposes it
  scope(() => {
    const inner = scope(() => ops.exp(x));
    assert.ok(!inner.disposed);
  });
  assert.is(inUse(), base, 'nested scope');
  // a scope whose fn throws still cleans up
  assert.throws(() => scope(() => {
    ops.exp(x);
    throw new Error('inside');
  }), /inside/);
  assert.is(inUse(), base, 'scope that threw');
  x.dispose();
});

test('scope keeps tensors returned inside nested arrays and objects', async () => {
  const x = tensor([1, 2], [2], { requiresGrad: true });
  const out = scope(() => ({ loss: ops.sum(x), parts: [ops.exp(x), { sq: ops.square(x) }], n: 3 }));
  assert.ok(!out.loss.disposed && !out.parts[0].disposed && !out.parts[1].sq.disposed);
  assertClose(await out.parts[1].sq.read(), [1, 4]);
  out.loss.backward();
  assertClose(await x.grad.read(), [1, 1]);
  for (const t of [out.loss, out.parts[0], out.parts[1].sq, x]) t.dispose();
});

test('a loss returned from a scope and disposed without backward frees its graph', async () => {
  const x = keep(tensor(new Float32Array(300).fill(0.3), [3, 100], { requiresGrad: true }));
  const base = buffers();
  for (let k = 0; k < 5; k++) {
    // e.g. an evaluation pass run with grad on at top level: only the loss is read
    const loss = scope(() => ops.mean(ops.logSoftmax(ops.exp(ops.tanh(x)))));
    await loss.read();
    loss.dispose();
    assert.is(buffers(), base, `step ${k}: buffers in use`);
  }
  // a long chain is released without recursion
  let t = x;
  const chain = scope(() => {
    for (let k = 0; k < 3000; k++) t = ops.mul(t, 1.0001);
    return ops.sum(t);
  });
  chain.dispose();
  assert.is(buffers(), base, 'after a 3,000-node chain');
  x.dispose();
});

test('a graph freed by its scope cannot be backpropagated', async () => {
  const x = tensor([1, 2], [2], { requiresGrad: true });
  let y, kept;
  const loss = scope(() => {
    y = ops.exp(x);
    kept = keep(ops.exp(x)); // the tensor outlives the scope; the node recorded there does not
    return ops.sum(x);
  });
  // y and the nodes of y and kept were released with the scope (neither was returned)
  assert.ok(y.disposed);
  assert.ok(!kept.disposed);
  const s = ops.sum(kept);
  assert.throws(() => s.backward(), /backward: the graph through 'exp' was already freed/);
  assert.is(x.grad, null, 'the refused backward touched no gradient');
  loss.backward(); // the returned graph is intact
  assertClose(await x.grad.read(), [1, 1]);
  for (const t of [s, kept, loss, x]) t.dispose();
});

test('requiresGrad is only for f32', () => {
  assert.throws(() => tensor(Int32Array.from([1, 2]), [2], { requiresGrad: true }), /tensor: requiresGrad needs dtype 'f32', got 'i32'/);
});

test.run();
