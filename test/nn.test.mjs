// nn.Module: registration order, PyTorch state-dict names, strict loading, modes,
// seeded initialisation, Linear/Sequential forward and fusion, dispose.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib, { tensor, scope, gpu, noGrad } from './helpers/lib.mjs';
import { rng, assertClose } from './helpers/ref.mjs';

const { nn, models, ops } = lib;

class Net extends nn.Module {
  constructor() {
    super();
    this.fc = this.addModule('fc', new nn.Linear(5, 4, { rng: new nn.Rng(3) }));
    this.bn = this.addModule('bn', new nn.BatchNorm2d(4));
    this.seq = this.addModule('seq', new nn.Sequential(new nn.Linear(4, 3, { rng: new nn.Rng(4) }), new nn.ReLU(), new nn.Linear(3, 2, { bias: false, rng: new nn.Rng(5) })));
  }
  forward(x) {
    return this.seq.forward(this.fc.forward(x));
  }
}

test('state dict keys in PyTorch order, parameters kept and requiring grad', () => {
  const m = new Net();
  assert.equal(Object.keys(m.stateDict()), [
    'fc.weight', 'fc.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked',
    'seq.0.weight', 'seq.0.bias', 'seq.2.weight',
  ]);
  assert.equal(m.namedParameters().map(([k]) => k), ['fc.weight', 'fc.bias', 'bn.weight', 'bn.bias', 'seq.0.weight', 'seq.0.bias', 'seq.2.weight']);
  assert.is(m.numParameters(), 5 * 4 + 4 + 4 + 4 + 4 * 3 + 3 + 3 * 2);
  for (const p of m.parameters()) assert.ok(p.requiresGrad);
  for (const b of m.buffers()) assert.not.ok(b.requiresGrad);
  const sd = m.stateDict();
  assert.is(sd['bn.num_batches_tracked'].dtype, 'i32');
  assert.equal(sd['bn.num_batches_tracked'].shape, []);
  assert.equal(sd['fc.weight'].shape, [4, 5]);
  scope(() => m.forward(tensor(new Float32Array(10).fill(1), [2, 5])));
  for (const t of Object.values(sd)) assert.not.ok(t.disposed, 'parameters survive scopes');
  m.dispose();
  for (const t of Object.values(sd)) assert.ok(t.disposed, 'dispose frees parameters');
});

test('train()/eval() set the flag on every module', () => {
  const m = new Net();
  assert.ok(m.training && m.bn.training);
  m.eval();
  assert.not.ok(m.training || m.bn.training || m.seq.at(0).training);
  m.train();
  assert.ok(m.seq.at(2).training);
  m.dispose();
});

test('loadStateDict copies data; strict errors list missing, unexpected and mis-shaped keys', async () => {
  const a = new Net();
  const b = new Net();
  const r = rng(5);
  const w = tensor(Float32Array.from(r.randn(20)), [4, 5]);
  const sd = { ...b.stateDict(), 'fc.weight': w };
  a.loadStateDict(sd);
  assertClose(await a.fc.weight.read(), await w.read(), { rtol: 0, atol: 0 });
  const { 'bn.running_var': _drop, ...partial } = sd;
  const bad = { ...partial, extra: w, 'seq.0.weight': tensor(new Float32Array(6), [3, 2]) };
  try {
    a.loadStateDict(bad);
    assert.unreachable();
  } catch (e) {
    assert.match(e.message, /missing keys \(1\):\s+bn\.running_var/);
    assert.match(e.message, /unexpected keys \(1\):\s+extra/);
    assert.match(e.message, /seq\.0\.weight: checkpoint \[3, 2\] f32, model \[3, 4\] f32/);
  }
  const res = a.loadStateDict(partial, { strict: false });
  assert.equal(res, { missing: ['bn.running_var'], unexpected: [] });
  try {
    a.loadStateDict({ ...sd, 'bn.num_batches_tracked': tensor([1], []) });
    assert.unreachable();
  } catch (e) {
    assert.match(e.message, /num_batches_tracked: checkpoint \[\] f32, model \[\] i32/);
  }
  a.dispose();
  b.dispose();
  w.dispose();
});

test('initialisation is seeded and follows PyTorch/torchvision', async () => {
  const a = models.resnet18({ numClasses: 10, smallInput: true, seed: 1 });
  const b = models.resnet18({ numClasses: 10, smallInput: true, seed: 1 });
  const c = models.resnet18({ numClasses: 10, smallInput: true, seed: 2 });
  const wa = await a.stateDict()['layer3.0.conv1.weight'].read();
  const wb = await b.stateDict()['layer3.0.conv1.weight'].read();
  const wc = await c.stateDict()['layer3.0.conv1.weight'].read();
  assert.equal([...wa.subarray(0, 50)], [...wb.subarray(0, 50)], 'same seed, same weights');
  assert.not.equal([...wa.subarray(0, 50)], [...wc.subarray(0, 50)], 'another seed, other weights');
  // kaiming normal, fan_out = 256·3·3
  let s = 0, s2 = 0;
  for (const v of wa) { s += v; s2 += v * v; }
  const std = Math.sqrt(s2 / wa.length - (s / wa.length) ** 2);
  assert.ok(Math.abs(std / Math.sqrt(2 / (256 * 9)) - 1) < 0.02, `conv std ${std}`);
  assert.ok(Math.abs(s / wa.length) < 3 * std / Math.sqrt(wa.length) + 1e-4, 'conv mean ~ 0');
  const sd = a.stateDict();
  assert.ok((await sd['layer1.0.bn1.weight'].read()).every((v) => v === 1));
  assert.ok((await sd['layer1.0.bn1.bias'].read()).every((v) => v === 0));
  assert.ok((await sd['layer1.0.bn1.running_var'].read()).every((v) => v === 1));
  const fc = await sd['fc.weight'].read();
  const bound = 1 / Math.sqrt(512);
  assert.ok(fc.every((v) => Math.abs(v) <= bound) && Math.max(...fc.map(Math.abs)) > 0.95 * bound, 'fc uniform(±1/√512)');
  for (const m of [a, b, c]) m.dispose();
  const mb = models.mobilenetV2({ widthMult: 0.5, numClasses: 10, seed: 3 });
  const cw = await mb.stateDict()['classifier.1.weight'].read();
  let q = 0;
  for (const v of cw) q += v * v;
  assert.ok(Math.abs(Math.sqrt(q / cw.length) - 0.01) < 0.001, 'classifier N(0, 0.01)');
  assert.ok((await mb.stateDict()['classifier.1.bias'].read()).every((v) => v === 0));
  mb.dispose();
});

test('Linear and Sequential forward match a CPU reference; Linear → ReLU is fused', async () => {
  const m = new Net();
  const r = rng(9);
  const xs = Float32Array.from(r.randn(3 * 5));
  const sd = m.stateDict();
  const [w1, b1, w2, b2, w3] = await Promise.all(['fc.weight', 'fc.bias', 'seq.0.weight', 'seq.0.bias', 'seq.2.weight'].map((k) => sd[k].read()));
  const lin = (x, w, b, n, i, o) => {
    const y = new Float64Array(n * o);
    for (let r0 = 0; r0 < n; r0++) for (let j = 0; j < o; j++) {
      let s = b ? b[j] : 0;
      for (let k = 0; k < i; k++) s += x[r0 * i + k] * w[j * i + k];
      y[r0 * o + j] = s;
    }
    return y;
  };
  const h1 = lin(xs, w1, b1, 3, 5, 4);
  const h2 = lin(h1, w2, b2, 3, 4, 3).map((v) => Math.max(v, 0));
  const ref = lin(h2, w3, null, 3, 3, 2);
  const before = gpu().counters.dispatches;
  const { labels, result: y } = kernelsOf(() => scope(() => m.forward(tensor(xs, [3, 5]))));
  assert.is(gpu().counters.dispatches - before, 3, 'three matmuls, ReLU fused');
  assert.not.ok(labels.some((l) => /relu/i.test(l)), `no separate ReLU kernel: ${labels.join(', ')}`);
  assertClose(await y.read(), ref, { rtol: 1e-5, atol: 1e-5, what: 'forward' });
  y.dispose();
  m.dispose();
});

test('constructor arguments are checked', () => {
  assert.throws(() => new nn.Conv2d(3, 8, 3, { groups: 2 }), /not divisible by groups/);
  assert.throws(() => new nn.Linear(0, 3), /inFeatures must be a positive integer/);
  assert.throws(() => new nn.Dropout(1), /p must be in/);
  assert.throws(() => models.resnet18({ numClasses: 0 }), /numClasses/);
});

test('Conv → BN → ReLU6 in a Sequential runs no separate activation kernel (fused into batchnorm)', () => {
  const seq = new nn.Sequential(new nn.Conv2d(4, 8, 3, { padding: 1, bias: false }), new nn.BatchNorm2d(8), new nn.ReLU6());
  const x = tensor(Float32Array.from(rng(2).randn(2 * 4 * 5 * 5)), [2, 4, 5, 5]);
  const labels = [];
  const prev = gpu().onDispatch;
  gpu().onDispatch = (l) => labels.push(l);
  try {
    for (const mode of ['eval', 'train']) {
      seq[mode]();
      labels.length = 0;
      const shape = noGrad(() => scope(() => [...seq.forward(x).shape]));
      assert.equal(shape, [2, 8, 5, 5]);
      assert.ok(labels.some((l) => l.includes('conv2d')) && labels.some((l) => l.includes('batchnorm')), labels.join());
      assert.not.ok(labels.some((l) => /relu/i.test(l)), `${mode}: ${labels.join(', ')}`);
    }
  } finally {
    gpu().onDispatch = prev;
  }
  x.dispose();
  seq.dispose();
});

/** The labels of the kernels `fn` dispatches, and its result. */
function kernelsOf(fn) {
  const labels = [];
  const prev = gpu().onDispatch;
  gpu().onDispatch = (l) => labels.push(l);
  try {
    return { labels, result: fn() };
  } finally {
    gpu().onDispatch = prev;
  }
}

test('fused activations: Conv2d, Linear, BatchNorm2d forward(x, { act }) equal the separate activation; ReLU runs in the layer\'s kernel', async () => {
  const r = rng(21);
  // values well beyond 6 so that relu6's clamp is exercised, and negative ones for relu
  const x4 = tensor(Float32Array.from(r.randn(2 * 3 * 5 * 6), (v) => 8 * v), [2, 3, 5, 6]);
  const x2 = tensor(Float32Array.from(r.randn(4 * 7), (v) => 8 * v), [4, 7]);
  const conv = new nn.Conv2d(3, 5, 3, { padding: 1, rng: new nn.Rng(6) });
  const lin = new nn.Linear(7, 9, { rng: new nn.Rng(7) });
  const bn = new nn.BatchNorm2d(3).eval();
  const layers = [['Conv2d', conv, x4, /conv2d/], ['Linear', lin, x2, /matmul|linear/], ['BatchNorm2d', bn, x4, /batchnorm/]];
  for (const [name, layer, x] of layers) {
    const plain = await noGrad(() => scope(() => layer.forward(x))).read();
    assert.ok(plain.some((v) => v < 0) && plain.some((v) => v > 6), `${name}: the inputs reach both sides of the clamps`);
    for (const act of ['relu', 'relu6']) {
      const { labels, result } = kernelsOf(() => noGrad(() => scope(() => layer.forward(x, { act }))));
      const want = Array.from(plain, (v) => (act === 'relu' ? Math.max(v, 0) : Math.min(Math.max(v, 0), 6)));
      assertClose(await result.read(), want, { rtol: 0, atol: 0, what: `${name} act ${act}` });
      result.dispose();
      // ReLU is fused everywhere; ReLU6 in batchnorm (conv2d and linear take { act } when the op does)
      if (act === 'relu' || layer === bn) assert.not.ok(labels.some((l) => /relu/i.test(l)), `${name} ${act} ran a separate activation: ${labels.join(', ')}`);
    }
    const none = await noGrad(() => scope(() => layer.forward(x, { act: 'none' }))).read();
    assert.equal([...none], [...plain], `${name}: act 'none' is the plain forward`);
    assert.throws(() => layer.forward(x, { act: 'gelu' }), new RegExp(`${name}: unknown activation 'gelu'`));
  }
  // Sequential fuses a following ReLU / ReLU6 through the same option
  const seq = new nn.Sequential(lin, new nn.ReLU6());
  for (const [mods, act] of [[[conv, new nn.ReLU()], 'relu'], [[lin, new nn.ReLU6()], 'relu6'], [[bn, new nn.ReLU6()], 'relu6']]) {
    const x = mods[0] === lin ? x2 : x4;
    const seq = new nn.Sequential(...mods);
    const viaSeq = kernelsOf(() => noGrad(() => scope(() => seq.forward(x))));
    const direct = kernelsOf(() => noGrad(() => scope(() => mods[0].forward(x, { act }))));
    const what = `Sequential(${mods.map((m) => m.constructor.name)})`;
    assert.equal(viaSeq.labels, direct.labels, `${what} runs the kernels of forward(x, { act: '${act}' })`);
    assert.equal([...(await viaSeq.result.read())], [...(await direct.result.read())], what);
    viaSeq.result.dispose();
    direct.result.dispose();
  }
  [x4, x2].forEach((t) => t.dispose());
  [conv, lin, bn].forEach((m) => m.dispose());
});

test('loadStateDict into parameters an optimizer has packed; the optimizer keeps updating them', async () => {
  const m = new nn.Sequential(new nn.Linear(3, 2, { rng: new nn.Rng(1) }));
  const opt = new lib.optim.SGD(m.parameters(), { lr: 0.5 });
  const src = new nn.Sequential(new nn.Linear(3, 2, { rng: new nn.Rng(2) }));
  m.loadStateDict(src.stateDict());
  const w0 = await src.at(0).weight.read();
  assertClose(await m.at(0).weight.read(), w0, { rtol: 0, atol: 0, what: 'loaded weight' });
  const x = tensor([1, 2, 3], [1, 3]);
  scope(() => {
    opt.zeroGrad();
    ops.sum(m.forward(x)).backward();
    opt.step();
  });
  // d(sum(xWᵀ + b))/dW = x for every row: W ← W − 0.5·x
  const w1 = await m.at(0).weight.read();
  assertClose(w1, Array.from(w0, (v, i) => v - 0.5 * [1, 2, 3][i % 3]), { rtol: 1e-6, atol: 1e-6, what: 'updated weight' });
  opt.dispose();
  m.dispose();
  src.dispose();
  x.dispose();
});


test('randomState: dropout draw counters by module name; restoring them repeats the masks', async () => {
  const x = tensor(Float32Array.from({ length: 64 }, (_, i) => 1 + (i % 7)), [4, 16]);
  const make = () => new nn.Sequential(new nn.Linear(16, 16, { rng: new nn.Rng(1) }), new nn.Dropout(0.5, 9));
  const a = make();
  assert.equal(a.randomState(), { 1: 0 });
  for (let i = 0; i < 3; i++) noGrad(() => a.forward(x)).dispose();
  assert.equal(a.randomState(), { 1: 3 });
  const b = make();
  const fresh = await noGrad(() => b.forward(x)).read();
  b.loadRandomState(a.randomState());
  const ya = await noGrad(() => a.forward(x)).read();
  const yb = await noGrad(() => b.forward(x)).read();
  assert.equal([...yb], [...ya], 'same counter, same mask');
  assert.ok(ya.some((v, i) => v !== fresh[i]), 'a later draw gives another mask');
  a.eval();
  noGrad(() => a.forward(x)).dispose();
  assert.equal(a.randomState(), { 1: 4 }, 'eval draws nothing');
  assert.throws(() => b.loadRandomState({ 0: 1 }), /loadRandomState.*'0' is not a module that draws random numbers/);
  assert.throws(() => b.loadRandomState({ 1: -1 }), /draw count must be a non-negative integer/);
  const m = models.mobilenetV2({ numClasses: 10, smallInput: true, widthMult: 0.25 });
  assert.equal(Object.keys(m.randomState()), ['classifier.0']);
  for (const t of [x]) t.dispose();
  a.dispose(); b.dispose(); m.dispose();
});

test.run();
