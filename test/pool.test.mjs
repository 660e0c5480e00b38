// maxPool2d, avgPool2d, globalAvgPool2d and dropout against float64 references and finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, scope, gpu, noGrad } from './helpers/lib.mjs';
import { rng, assertClose, checkGrad, size } from './helpers/ref.mjs';
import { maxPoolRef, avgPoolRef, dotW } from './helpers/norm-ref.mjs';
import { dispatched } from './helpers/dispatches.mjs';

const labelsOf = async (fn) => (await dispatched(fn)).labels;

const f32 = (a) => Float64Array.from(Float32Array.from(a));

/** The labels of the dispatches `fn` issues. */

/** Pool dispatch labels are `op(layout)` / `max_pool2d(layout, no argmax)`: the layouts that ran. */
const layoutsOf = (labels) => new Set(labels.flatMap((l) => /^(?:max|avg)_pool2d(?:_backward)?\((\w+)/.exec(l)?.[1] ?? []));

/** Assert that `labels` name exactly the pool passes `want` (each label at least once), no other. */
function assertPoolPasses(labels, want) {
  const got = [...new Set(labels.filter((l) => /_pool2d/.test(l)))].sort();
  assert.equal(got, [...want].sort(), `pool passes: ${labels.join()}`);
}

async function poolCase(kind, shape, k, s, p, seed, gradShape) {
  const r = rng(seed);
  const x = f32(r.randn(size(shape), 2));
  const refFn = kind === 'max' ? maxPoolRef : avgPoolRef;
  const ref = refFn(x, shape, k, s, p);
  const tx = tensor(Float32Array.from(x), shape);
  const opts = { kernelSize: k, stride: s, padding: p };
  const y = kind === 'max' ? ops.maxPool2d(tx, opts) : ops.avgPool2d(tx, opts);
  assert.equal([...y.shape], ref.shape, `${kind}Pool2d output shape`);
  assertClose(await y.read(), ref.y, { rtol: 1e-6, atol: 1e-6, what: `${kind}Pool2d ${JSON.stringify(shape)} k${k} s${s} p${p}` });
  y.dispose();
  tx.dispose();
  // gradient of sum(w * pool(x)) by finite differences (random continuous data: no ties)
  const small = gradShape ?? shape.map((d, i) => (i < 2 ? Math.min(d, 2) : Math.min(d, 7)));
  const xs = r.randn(size(small), 1);
  const refS = refFn(xs, small, k, s, p);
  const w = r.uniform(size(refS.shape), -1, 1);
  const tw = tensor(Float32Array.from(w), refS.shape);
  await checkGrad({
    inputs: [xs],
    shapes: [small],
    engine: (t) => ops.sum(ops.mul(kind === 'max' ? ops.maxPool2d(t, opts) : ops.avgPool2d(t, opts), tw)),
    ref: (a) => dotW(refFn(a, small, k, s, p).y, w),
    rtol: 1e-3,
    atol: 1e-4,
    what: `${kind}Pool2d grad ${JSON.stringify(small)} k${k} s${s} p${p}`,
  });
  tw.dispose();
}

test('maxPool2d: kernel 2 and 3, stride 2, padding 1, odd sizes, H != W', async () => {
  await poolCase('max', [2, 3, 8, 8], 2, 2, 0, 1);
  await poolCase('max', [2, 5, 9, 7], 3, 2, 1, 2);
  await poolCase('max', [1, 3, 7, 11], 3, 1, 1, 3);
  await poolCase('max', [3, 2, 5, 5], 2, 1, 0, 4);
});

/** Every pass of both rules on `layout`: forward without (max: no argmax) and with a gradient, backward. */
const allPasses = (layout) => [
  `max_pool2d(${layout}, no argmax)`, `max_pool2d(${layout})`, `max_pool2d_backward(${layout})`,
  `avg_pool2d(${layout})`, `avg_pool2d_backward(${layout})`,
];

test('2x2 stride 2 on rows of a multiple of 4 (vectorized kernels), odd H', async () => {
  const labels = await labelsOf(async () => {
    await poolCase('max', [2, 3, 9, 12], 2, 2, 0, 11, [2, 2, 5, 8]);
    await poolCase('avg', [2, 3, 9, 12], 2, 2, 0, 12, [2, 2, 5, 8]);
    await poolCase('max', [3, 5, 8, 4], 2, 2, 0, 13, [1, 2, 4, 4]);
    await poolCase('avg', [3, 5, 8, 4], 2, 2, 0, 14, [1, 2, 4, 4]);
  });
  assertPoolPasses(labels, allPasses('pair4'));
});

test('2x2 stride 2 on rows of even length (vec2 kernels): W = 10, 14, 6, odd H', async () => {
  const labels = await labelsOf(async () => {
    await poolCase('max', [2, 3, 11, 10], 2, 2, 0, 15, [2, 2, 5, 6]);
    await poolCase('avg', [2, 3, 11, 10], 2, 2, 0, 16, [2, 2, 5, 6]);
    await poolCase('max', [2, 16, 14, 14], 2, 2, 0, 17, [1, 2, 4, 10]);
    await poolCase('avg', [3, 2, 6, 6], 2, 2, 0, 18, [1, 2, 3, 6]);
  });
  assertPoolPasses(labels, allPasses('pair2'));
});

test('any other window (generic kernels): 3x3 s2 p1, 2x2 on odd W, 3x3 s3 p1, 4x4 s2 p2', async () => {
  const labels = await labelsOf(async () => {
    await poolCase('max', [2, 5, 9, 7], 3, 2, 1, 19);
    await poolCase('avg', [2, 5, 9, 7], 3, 2, 1, 20);
    await poolCase('max', [2, 3, 6, 7], 2, 2, 0, 23);
    await poolCase('avg', [2, 2, 9, 8], 3, 3, 1, 24);
    await poolCase('max', [2, 2, 8, 8], 4, 2, 2, 25);
  });
  assertPoolPasses(labels, allPasses('window'));
});

test('avgPool2d: count_include_pad, kernel 2 and 3, stride 2, padding 1', async () => {
  await poolCase('avg', [2, 3, 8, 8], 2, 2, 0, 5);
  await poolCase('avg', [2, 5, 9, 7], 3, 2, 1, 6);
  await poolCase('avg', [1, 3, 7, 11], 3, 1, 1, 7);
});

test('maxPool2d ties: the first maximum in row-major window order gets the gradient', async () => {
  // one plane 4x4 with tied maxima; overlapping windows (k3 s1) and padding
  const x = [
    1, 5, 5, 0,
    5, 2, 5, 5,
    0, 5, 3, 3,
    4, 4, 4, 4,
  ];
  const shape = [1, 1, 4, 4];
  for (const [k, s, p] of [[2, 2, 0], [3, 1, 1], [3, 2, 1]]) {
    const tx = tensor(x, shape, { requiresGrad: true });
    const ref = maxPoolRef(x, shape, k, s, p);
    const w = Array.from({ length: ref.y.length }, (_, i) => i + 1);
    const tw = tensor(w, ref.shape);
    const loss = scope(() => ops.sum(ops.mul(ops.maxPool2d(tx, { kernelSize: k, stride: s, padding: p }), tw)));
    loss.backward();
    const expected = new Float64Array(16);
    ref.arg.forEach((a, o) => { expected[a] += w[o]; });
    assertClose(await tx.grad.read(), expected, { rtol: 0, atol: 0, what: `tie routing k${k} s${s} p${p}` });
    for (const t of [tx, tw, loss]) t.dispose();
  }
});

test('maxPool2d ties on rows of even length (vec2 kernel): first maximum wins', async () => {
  const x = [
    3, 3, 1, 2, 2, 2,
    3, 3, 2, 0, 2, 2,
    0, 1, 7, 7, 5, 4,
    1, 0, 7, 7, 4, 5,
    9, 9, 9, 9, 9, 9,
  ];
  const shape = [1, 1, 5, 6];
  const tx = tensor(x, shape, { requiresGrad: true });
  const ref = maxPoolRef(x, shape, 2, 2, 0);
  const w = Array.from({ length: ref.y.length }, (_, i) => i + 1);
  const tw = tensor(w, ref.shape);
  const loss = scope(() => ops.sum(ops.mul(ops.maxPool2d(tx, { kernelSize: 2 }), tw)));
  loss.backward();
  const expected = new Float64Array(30);
  ref.arg.forEach((a, o) => { expected[a] += w[o]; });
  assertClose(await tx.grad.read(), expected, { rtol: 0, atol: 0, what: 'tie routing, W = 6' });
  for (const t of [tx, tw, loss]) t.dispose();
});

test('maxPool2d without a gradient (noGrad, no requiresGrad) gives the same output, ties included', async () => {
  // every kernel layout: 2x2 s2 with W % 4 == 0 (vec4), W even (vec2), and a generic window
  const cases = [[[2, 3, 6, 8], 2, 2, 0], [[2, 3, 5, 6], 2, 2, 0], [[2, 3, 7, 7], 3, 2, 1]];
  const r = rng(21);
  for (const [shape, k, s, p] of cases) {
    // values on a coarse grid: many tied maxima
    const x = Float32Array.from(r.randn(size(shape), 1), (v) => Math.round(v * 2) / 2);
    const ref = maxPoolRef(x, shape, k, s, p);
    const opts = { kernelSize: k, stride: s, padding: p };
    const what = `${JSON.stringify(shape)} k${k} s${s} p${p}`;
    const tg = tensor(x, shape, { requiresGrad: true });
    const tn = tensor(x, shape);
    let yg, ye, yn;
    const lg = await labelsOf(() => { yg = ops.maxPool2d(tg, opts); });
    const le = await labelsOf(() => { ye = noGrad(() => ops.maxPool2d(tg, opts)); });
    const ln = await labelsOf(() => { yn = ops.maxPool2d(tn, opts); });
    assert.ok(yg.requiresGrad && !ye.requiresGrad && !yn.requiresGrad, `${what}: only the first records`);
    // with a gradient to come the kernel writes the argmax; without one, the NO_ARG kernel
    const layout = k === 2 && s === 2 && p === 0 ? (shape[3] % 4 === 0 ? 'pair4' : 'pair2') : 'window';
    assert.equal(lg, [`max_pool2d(${layout})`], `${what}: with grad`);
    assert.equal(le, [`max_pool2d(${layout}, no argmax)`], `${what}: noGrad`);
    assert.equal(ln, [`max_pool2d(${layout}, no argmax)`], `${what}: no requiresGrad`);
    for (const [y, how] of [[yg, 'with grad'], [ye, 'noGrad'], [yn, 'no requiresGrad']]) {
      assertClose(await y.read(), ref.y, { rtol: 0, atol: 0, what: `${what} ${how}` });
    }
    const w = Array.from({ length: ref.y.length }, (_, i) => 1 + (i % 5));
    const tw = tensor(w, ref.shape);
    const loss = ops.sum(ops.mul(yg, tw));
    loss.backward();
    const expected = new Float64Array(x.length);
    ref.arg.forEach((a, o) => { expected[Math.floor(o / (ref.shape[2] * ref.shape[3])) * shape[2] * shape[3] + a] += w[o]; });
    assertClose(await tg.grad.read(), expected, { rtol: 0, atol: 0, what: `${what} tie routing` });
    for (const t of [tg, tn, yg, ye, yn, tw, loss]) t.dispose();
  }
});

test('2x2 stride 2: the vectorized kernels agree bitwise with the generic one (same windows)', async () => {
  // W = 8 (vec4) and W = 6 (vec2) against the same columns with one more (W odd: generic kernel)
  const r = rng(22);
  for (const W of [8, 6]) {
    const [N, C, H] = [2, 3, 6];
    const wide = Float32Array.from(r.randn(N * C * H * (W + 1), 1));
    const narrow = wide.filter((_, i) => i % (W + 1) < W);
    const tw = tensor(wide, [N, C, H, W + 1]);
    const tn = tensor(narrow, [N, C, H, W]);
    for (const f of [ops.maxPool2d, ops.avgPool2d]) {
      let yw, yn;
      const lw = await labelsOf(() => { yw = f(tw, { kernelSize: 2 }); });
      const ln = await labelsOf(() => { yn = f(tn, { kernelSize: 2 }); });
      assert.equal([...layoutsOf(lw)], ['window'], `${f.name} W = ${W + 1}: ${lw.join()}`);
      assert.equal([...layoutsOf(ln)], [W % 4 === 0 ? 'pair4' : 'pair2'], `${f.name} W = ${W}: ${ln.join()}`);
      const a = await yw.read();
      const b = await yn.read();
      assert.ok(a.some((v) => v !== 0), `${f.name} W = ${W}: not all zero`);
      assert.equal(b, a, `${f.name} W = ${W}`); // W + 1 columns give W / 2 outputs too
      yw.dispose(); yn.dispose();
    }
    tw.dispose(); tn.dispose();
  }
});

test('maxPool2d pads with -inf (all-negative input)', async () => {
  const x = Float32Array.from({ length: 25 }, (_, i) => -1 - i);
  const tx = tensor(x, [1, 1, 5, 5]);
  const y = ops.maxPool2d(tx, { kernelSize: 3, stride: 2, padding: 1 });
  assertClose(await y.read(), maxPoolRef(x, [1, 1, 5, 5], 3, 2, 1).y, { rtol: 0, atol: 0, what: 'padded max' });
  tx.dispose(); y.dispose();
});

test('globalAvgPool2d -> [N, C] and its gradient', async () => {
  const shape = [3, 5, 7, 6];
  const r = rng(8);
  const x = f32(r.randn(size(shape), 1));
  const tx = tensor(Float32Array.from(x), shape);
  const y = ops.globalAvgPool2d(tx);
  assert.equal([...y.shape], [3, 5]);
  const ref = Float64Array.from({ length: 15 }, (_, k) => { let s = 0; for (let i = 0; i < 42; i++) s += x[k * 42 + i]; return s / 42; });
  assertClose(await y.read(), ref, { rtol: 1e-5, atol: 1e-6, what: 'globalAvgPool2d' });
  tx.dispose(); y.dispose();
  const w = r.uniform(6, -1, 1);
  const tw = tensor(Float32Array.from(w), [2, 3]);
  await checkGrad({
    inputs: [r.randn(2 * 3 * 3 * 5, 1)],
    shapes: [[2, 3, 3, 5]],
    engine: (t) => ops.sum(ops.mul(ops.globalAvgPool2d(t), tw)),
    ref: (a) => { let s = 0; for (let k = 0; k < 6; k++) { let m = 0; for (let i = 0; i < 15; i++) m += a[k * 15 + i]; s += w[k] * m / 15; } return s; },
    what: 'globalAvgPool2d grad',
  });
  tw.dispose();
});

test('dropout: deterministic by seed, kept fraction, scaling, eval identity', async () => {
  const n = 200003;
  const x = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
  const tx = tensor(x, [n]);
  const p = 0.3;
  const a = await ops.dropout(tx, { p, training: true, seed: 42 }).read();
  const b = await ops.dropout(tx, { p, training: true, seed: 42 }).read();
  const c = await ops.dropout(tx, { p, training: true, seed: 43 }).read();
  assert.equal(a, b, 'same seed, same mask');
  let kept = 0;
  let differ = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] !== 0) {
      kept++;
      assert.ok(Math.abs(a[i] - x[i] / (1 - p)) <= 1e-5 * a[i], `kept element ${i} scaled by 1/(1-p)`);
    }
    if ((a[i] === 0) !== (c[i] === 0)) differ++;
  }
  const frac = kept / n;
  // binomial std of the kept fraction ~ 0.001: 5 sigma
  assert.ok(Math.abs(frac - (1 - p)) < 0.005, `kept fraction ${frac}, expected ${1 - p}`);
  assert.ok(differ > 0.3 * n, `another seed gives another mask (${differ} differ)`);
  // the vectorized path (size % 4 == 0) draws the same mask for the same element indices
  const t4 = tensor(x.subarray(0, 200000), [200000]);
  let y4, y1;
  assert.equal(await labelsOf(() => { y4 = ops.dropout(t4, { p, training: true, seed: 42 }); }), ['dropout(v4)']);
  assert.equal(await labelsOf(() => { y1 = ops.dropout(tx, { p, training: true, seed: 42 }); }), ['dropout(v1)']);
  const a4 = await y4.read();
  assert.equal(a4, a.subarray(0, 200000), 'vec4 and scalar paths agree');
  assert.equal(await y1.read(), a, 'the scalar path again');
  t4.dispose();
  // no structure along the index: kept fraction of even and odd elements, and of blocks
  let even = 0;
  for (let i = 0; i < n; i += 2) if (a[i] !== 0) even++;
  assert.ok(Math.abs(even / Math.ceil(n / 2) - (1 - p)) < 0.007, `even-index kept fraction ${even / Math.ceil(n / 2)}`);
  assert.is(ops.dropout(tx, { p, training: false, seed: 1 }), tx, 'eval: identity');
  const zero = await ops.dropout(tx, { p: 1, training: true, seed: 1 }).read();
  assert.ok(zero.every((v) => v === 0), 'p = 1 drops everything');
  tx.dispose();
});

test('dropout backward uses the same mask', async () => {
  const n = 1000;
  const r = rng(9);
  const x = Float32Array.from(r.randn(n, 1));
  const w = Float32Array.from(r.uniform(n, -1, 1));
  const tx = tensor(x, [10, 100], { requiresGrad: true });
  const tw = tensor(w, [10, 100]);
  const y = ops.dropout(tx, { p: 0.5, training: true, seed: 7 });
  const yv = await y.read();
  const loss = ops.sum(ops.mul(y, tw));
  loss.backward();
  const g = await tx.grad.read();
  for (let i = 0; i < n; i++) {
    const expected = yv[i] === 0 ? 0 : 2 * w[i];
    assert.ok(Math.abs(g[i] - expected) <= 1e-6, `grad ${i}: ${g[i]} vs ${expected}`);
  }
  for (const t of [tx, tw, y, loss]) t.dispose();
});

test('no buffers leak through pooling and dropout forward + backward', async () => {
  const x = tensor(Float32Array.from({ length: 2 * 3 * 36 }, (_, i) => Math.cos(i)), [2, 3, 6, 6], { requiresGrad: true });
  const step = () => {
    const a = ops.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    const b = ops.avgPool2d(x, { kernelSize: 2 });
    const gp = ops.globalAvgPool2d(x);
    const c = ops.dropout(gp, { p: 0.5, training: true, seed: 3 });
    const parts = [ops.sum(a), ops.sum(b), ops.sum(c)];
    const s1 = ops.add(parts[0], parts[1]);
    const loss = ops.add(s1, parts[2]);
    loss.backward();
    for (const t of [a, b, gp, c, ...parts, s1, loss]) t.dispose();
    x.grad.dispose(); x.grad = null;
  };
  step();
  await gpu().sync();
  const before = gpu().memory().buffersInUse;
  step(); step();
  await gpu().sync();
  assert.is(gpu().memory().buffersInUse, before, 'live buffers after the steps');
  x.dispose();
});

test('bad input names the op and the shapes', () => {
  const x = tensor(new Float32Array(2 * 3 * 4 * 4).fill(1), [2, 3, 4, 4]);
  const x3 = tensor(new Float32Array(12).fill(1), [3, 2, 2]);
  assert.throws(() => ops.maxPool2d(x3, { kernelSize: 2 }), /maxPool2d.*rank 4.*\[3, 2, 2\]/);
  assert.throws(() => ops.avgPool2d(x3, { kernelSize: 2 }), /avgPool2d.*rank 4.*\[3, 2, 2\]/);
  assert.throws(() => ops.globalAvgPool2d(x3), /globalAvgPool2d.*rank 4.*\[3, 2, 2\]/);
  assert.throws(() => ops.maxPool2d(x, { kernelSize: 5 }), /maxPool2d.*kernel 5x5.*larger than the padded input 4x4.*\[2, 3, 4, 4\]/);
  assert.throws(() => ops.avgPool2d(x, { kernelSize: 7, padding: 1 }), /avgPool2d.*kernel 7x7.*larger than the padded input 6x6/);
  assert.throws(() => ops.maxPool2d(x, { kernelSize: 2, padding: 2 }), /maxPool2d.*padding 2x2.*half the kernel 2x2/);
  assert.throws(() => ops.maxPool2d(x, { kernelSize: 0 }), /maxPool2d.*kernelSize/);
  assert.throws(() => ops.dropout(x, { p: 1.5, training: true }), /dropout.*p must be in \[0, 1\]/);
  x.dispose(); x3.dispose();
});

test.run();
