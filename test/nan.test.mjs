// NaN propagates as in PyTorch: relu / relu6 (both vector widths) keep NaN, and their gradient
// passes where the output is NaN; max and argmax take the first NaN along the axis; max pooling
// takes every NaN it meets (NaN out, the gradient to the window's last NaN); batchnorm's fused
// ReLU/ReLU6 keep NaN; maximum/minimum give NaN for a NaN operand and pass the gradient to both;
// dropout keeps a dropped NaN (NaN * 0); the metrics rank NaN above every number (argmax/topk). A model whose
// weights went NaN must not look like a plausible one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib, { tensor, ops } from './helpers/lib.mjs';
import { dispatched } from './helpers/dispatches.mjs';
import { rng } from './helpers/ref.mjs';
import { applyAct } from './helpers/norm-ref.mjs';

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

test('maximum and minimum propagate NaN, and its gradient reaches both operands (scalar, vec4, broadcast kernels)', async () => {
  // [8] with [8] (vec4 flat), [2, 4] with [4] (vec4 broadcast), [3, 3] with [3, 1] (strided)
  const cases = [[[8], [8]], [[2, 4], [4]], [[3, 3], [3, 1]]];
  for (const [as, bs] of cases) {
    const na = as.reduce((p, q) => p * q, 1);
    const nb = bs.reduce((p, q) => p * q, 1);
    const av = Float32Array.from({ length: na }, (_, i) => [1, NaN, -2, 0.5, 3, -1, NaN, 2, 0][i % 9]);
    const bv = Float32Array.from({ length: nb }, (_, i) => [NaN, 0, 1, -3, 2, NaN, 1, 4][i % 8]);
    for (const [name, f] of [['maximum', Math.max], ['minimum', Math.min]]) {
      const a = tensor(av, as, { requiresGrad: true });
      const b = tensor(bv, bs, { requiresGrad: true });
      const y = ops[name](a, b);
      const os = y.shape;
      const n = os.reduce((p, q) => p * q, 1);
      // broadcast indices, right-aligned
      const idx = (i, s) => {
        let k = 0;
        let stride = 1;
        let rest = i;
        const ds = [];
        for (let d = os.length - 1; d >= 0; d--) { ds.unshift(rest % os[d]); rest = Math.floor(rest / os[d]); }
        for (let d = s.length - 1; d >= 0; d--) { const od = os.length - s.length + d; k += (s[d] === 1 ? 0 : ds[od]) * stride; stride *= s[d]; }
        return k;
      };
      const want = Array.from({ length: n }, (_, i) => f(av[idx(i, as)], bv[idx(i, bs)])); // Math.max/min propagate NaN
      same(Array.from(await y.read()), want, `${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}`);
      ops.sum(y).backward();
      const ga = new Float32Array(na);
      const gb = new Float32Array(nb);
      for (let i = 0; i < n; i++) {
        const x = av[idx(i, as)];
        const z = bv[idx(i, bs)];
        const nan = Number.isNaN(x) || Number.isNaN(z);
        // ties to a (this engine), NaN: both (PyTorch masks only where the comparison holds)
        if (nan || (name === 'maximum' ? x >= z : x <= z)) ga[idx(i, as)] += 1;
        if (nan || (name === 'maximum' ? x < z : x > z)) gb[idx(i, bs)] += 1;
      }
      same(Array.from(await a.grad.read()), Array.from(ga), `${name} grad a`);
      same(Array.from(await b.grad.read()), Array.from(gb), `${name} grad b`);
    }
  }
});

test('dropout keeps NaN (and turns a dropped ±Inf into NaN) as PyTorch does (x * mask); finite dropped elements stay +0', async () => {
  for (const n of [37, 64]) {
    const v = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? NaN : i % 7 === 0 ? -Infinity : i % 2 ? -(i + 1) : i + 1));
    const ones = await ops.dropout(tensor(new Float32Array(n).fill(1), [n]), { p: 0.5, training: true, seed: 3 }).read();
    const kept = Array.from(ones, (o) => o !== 0);
    assert.ok(kept.some(Boolean) && !kept.every(Boolean), 'the mask keeps some and drops some');
    const y = await ops.dropout(tensor(v, [n]), { p: 0.5, training: true, seed: 3 }).read();
    for (let i = 0; i < n; i++) {
      const want = kept[i] ? v[i] * 2 : Number.isFinite(v[i]) ? 0 : NaN;
      assert.ok(Object.is(y[i], want), `n=${n} element ${i}: ${y[i]}, expected ${want} (x ${v[i]}, ${kept[i] ? 'kept' : 'dropped'})`);
    }
    const all = await ops.dropout(tensor(v, [n]), { p: 1, training: true, seed: 3 }).read();
    for (let i = 0; i < n; i++) assert.is(Number.isNaN(all[i]), !Number.isFinite(v[i]), `p = 1, element ${i}: ${all[i]}`);
  }
});

/**
 * PyTorch's max_pool2d (aten/src/ATen/native/cpu/MaxPoolKernel.cpp): the window's first cell
 * starts, then `val > maxval || isnan(val)` takes a cell. Returns { y, arg } (plane indices).
 */
function refMaxPool(x, [N, C, H, W], k, s, pd) {
  const OH = Math.floor((H + 2 * pd - k) / s) + 1;
  const OW = Math.floor((W + 2 * pd - k) / s) + 1;
  const y = new Float64Array(N * C * OH * OW);
  const arg = new Int32Array(y.length);
  for (let pl = 0; pl < N * C; pl++) {
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      let best = -Infinity;
      let at = -1;
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        const ih = oh * s - pd + i;
        const iw = ow * s - pd + j;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        const v = x[pl * H * W + ih * W + iw];
        if (at < 0 || v > best || Number.isNaN(v)) { best = v; at = ih * W + iw; }
      }
      y[(pl * OH + oh) * OW + ow] = best;
      arg[(pl * OH + oh) * OW + ow] = at;
    }
  }
  return { y, arg, OH, OW };
}

test('maxPool2d propagates NaN as PyTorch does: NaN out, the gradient to the last NaN (every layout, with and without argmax)', async () => {
  const r = rng(7).next;
  const cases = [
    { shape: [2, 3, 6, 8], k: 2, s: 2, pd: 0, layout: 'pair4' },
    { shape: [2, 3, 6, 6], k: 2, s: 2, pd: 0, layout: 'pair2' },
    { shape: [2, 3, 7, 7], k: 3, s: 2, pd: 1, layout: 'window' },
    { shape: [1, 2, 5, 9], k: 3, s: 1, pd: 1, layout: 'window' },
  ];
  for (const { shape, k, s: st, pd, layout } of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const xs = Float32Array.from({ length: n }, () => r() * 4 - 2);
    // NaN in about one cell of ten, two of them in one window of the first plane
    for (let i = 0; i < n; i++) if (r() < 0.1) xs[i] = NaN;
    xs[0] = NaN;
    xs[1] = NaN;
    const ref = refMaxPool(xs, shape, k, st, pd);
    assert.ok(ref.y.some(Number.isNaN) && ref.y.some((v) => !Number.isNaN(v)), 'the case has NaN and finite outputs');
    const what = `${layout} ${JSON.stringify(shape)} k${k} s${st} p${pd}`;
    const opts = { kernelSize: k, stride: st, padding: pd };
    // forward only (no argmax written)
    const { result: y0, labels: l0 } = dispatched(() => ops.maxPool2d(tensor(xs, shape), opts));
    assert.ok(l0.includes(`max_pool2d(${layout}, no argmax)`), `${what}: ran ${l0}`);
    same(Array.from(await y0.read()), Array.from(ref.y, Math.fround), `${what} forward, no argmax`);
    // with the argmax, and the gradient of sum(y * seed): seed[o] lands on arg[o]
    const x = tensor(xs, shape, { requiresGrad: true });
    const { result: y, labels } = dispatched(() => ops.maxPool2d(x, opts));
    assert.ok(labels.includes(`max_pool2d(${layout})`), `${what}: ran ${labels}`);
    same(Array.from(await y.read()), Array.from(ref.y, Math.fround), `${what} forward`);
    const seed = Float32Array.from({ length: ref.y.length }, (_, i) => 1 + (i % 7));
    y.backward(tensor(seed, y.shape));
    const [N, C, H, W] = shape;
    const dx = new Float32Array(n);
    for (let pl = 0; pl < N * C; pl++) for (let o = 0; o < ref.OH * ref.OW; o++) dx[pl * H * W + ref.arg[pl * ref.OH * ref.OW + o]] += seed[pl * ref.OH * ref.OW + o];
    same(Array.from(await x.grad.read()), Array.from(dx), `${what} gradient`);
  }
});

test("batchNorm2d's fused relu/relu6 keep NaN and pass its gradient (v1, v4 and x layouts, eval); a NaN poisons its channel in training", async () => {
  const r = rng(11).next;
  for (const [shape, width] of [[[2, 3, 1, 3], 'v1'], [[2, 3, 2, 2], 'v4'], [[2, 2, 1, 6], 'x']]) {
    const [N, C, H, W] = shape;
    const HW = H * W;
    const n = N * C * HW;
    for (const act of ['relu', 'relu6']) {
      const xs = Float32Array.from({ length: n }, () => r() * 16 - 6);
      xs[1] = NaN;
      xs[n - 2] = NaN;
      const gamma = Float32Array.from({ length: C }, () => 0.5 + r());
      const beta = Float32Array.from({ length: C }, () => r() - 0.5);
      const rm = Float32Array.from({ length: C }, () => r() - 0.5);
      const rv = Float32Array.from({ length: C }, () => 0.5 + r());
      const x = tensor(xs, shape, { requiresGrad: true });
      const what = `${width} ${JSON.stringify(shape)} ${act}`;
      const { result: y, labels } = dispatched(() =>
        ops.batchNorm2d(x, tensor(gamma, [C]), tensor(beta, [C]), tensor(rm, [C]), tensor(rv, [C]), { training: false, act }),
      );
      assert.ok(labels.includes(`batchnorm_normalize(${width})`), `${what}: ran ${labels}`);
      const got = await y.read();
      const scale = (c) => Math.fround(gamma[c] / Math.sqrt(rv[c] + 1e-5));
      for (let i = 0; i < n; i++) {
        const c = Math.floor(i / HW) % C;
        const want = applyAct((xs[i] - rm[c]) * scale(c) + beta[c], act);
        if (Number.isNaN(want)) assert.ok(Number.isNaN(got[i]), `${what}: element ${i} is ${got[i]}, expected NaN`);
        else assert.ok(Math.abs(got[i] - want) <= 1e-5 * (1 + Math.abs(want)), `${what}: element ${i} is ${got[i]}, expected ${want}`);
      }
      // PyTorch: threshold/hardtanh backward zero the gradient only where y <= 0 (or y >= 6)
      const seed = Float32Array.from({ length: n }, (_, i) => 1 + (i % 5));
      y.backward(tensor(seed, shape));
      const dx = await x.grad.read();
      for (let i = 0; i < n; i++) {
        const c = Math.floor(i / HW) % C;
        const yi = got[i];
        const passes = Number.isNaN(yi) || (yi > 0 && (act === 'relu' || yi < 6));
        const want = passes ? seed[i] * scale(c) : 0;
        assert.ok(Math.abs(dx[i] - want) <= 1e-5 * (1 + Math.abs(want)), `${what} gradient: element ${i} is ${dx[i]}, expected ${want} (y = ${yi})`);
      }
    }
  }
  // training: the channel holding a NaN has NaN statistics, so every output of it is NaN (not 0)
  const shape = [2, 3, 2, 2];
  const xs = Float32Array.from({ length: 24 }, () => r() * 4 - 1);
  xs[5] = NaN; // n 0, channel 1
  const y = await ops.batchNorm2d(tensor(xs, shape), null, null, null, null, { training: true, act: 'relu' }).read();
  for (let i = 0; i < 24; i++) {
    const c = Math.floor(i / 4) % 3;
    assert.is(Number.isNaN(y[i]), c === 1, `training: element ${i} (channel ${c}) is ${y[i]}`);
  }
});

/** top-1 / top-5 hits as PyTorch counts them: topk with NaN above every number, ties by index. */
function refHits(z, labels, classes) {
  let h1 = 0;
  let h5 = 0;
  labels.forEach((t, r) => {
    const row = Array.from(z.subarray(r * classes, (r + 1) * classes), (v, j) => ({ v, j }));
    row.sort((a, b) => {
      const na = Number.isNaN(a.v);
      const nb = Number.isNaN(b.v);
      if (na !== nb) return na ? -1 : 1;
      if (!na && a.v !== b.v) return b.v - a.v;
      return a.j - b.j;
    });
    const rank = row.findIndex((e) => e.j === t);
    if (rank === 0) h1++;
    if (rank < 5) h5++;
  });
  return { h1, h5 };
}

test('metrics count top-1/top-5 as PyTorch does with NaN: a NaN logit outranks every number (a finite label behind it is wrong)', async () => {
  const r = rng(5).next;
  const rows = 96;
  const classes = 12;
  const z = Float32Array.from({ length: rows * classes }, () => Math.round(r() * 6) / 2); // ties on purpose
  const labels = Int32Array.from({ length: rows }, () => Math.floor(r() * classes));
  const nan = (row, j) => (z[row * classes + j] = NaN);
  for (let row = 0; row < rows; row++) {
    const t = labels[row];
    const kind = row % 8;
    if (kind === 1) nan(row, (t + 1) % classes); // NaN elsewhere: top-1 wrong, top-5 may hold
    if (kind === 2) nan(row, t); // NaN at the label, no other: PyTorch's argmax picks it
    if (kind === 3) { nan(row, t); if (t > 0) nan(row, 0); } // an earlier NaN wins
    if (kind === 4) for (let j = 0; j < classes; j++) nan(row, j); // all NaN: argmax 0
    if (kind === 5) for (let j = 0; j < 5; j++) if (j !== t) nan(row, (t + 1 + j) % classes); // five NaNs: out of the top-5
  }
  const want = refHits(z, labels, classes);
  const acc = new lib.train.MetricAccumulator();
  acc.add(tensor(z, [rows, classes]), tensor(labels, [rows], { dtype: 'i32' }));
  const m = await acc.read();
  acc.dispose();
  assert.is(m.count, rows);
  assert.is(Math.round((m.top1 * rows) / 100), want.h1, `top-1 hits ${(m.top1 * rows) / 100}, PyTorch ${want.h1}`);
  assert.is(Math.round((m.top5 * rows) / 100), want.h5, `top-5 hits ${(m.top5 * rows) / 100}, PyTorch ${want.h5}`);
  // rows whose finite label logit has a NaN elsewhere are all wrong at top-1
  const wrong = [];
  for (let row = 1; row < rows; row += 8) wrong.push(row);
  const acc1 = new lib.train.MetricAccumulator();
  const pick = (rs) => Float32Array.from(rs.flatMap((row) => Array.from(z.subarray(row * classes, (row + 1) * classes))));
  acc1.add(tensor(pick(wrong), [wrong.length, classes]), tensor(Int32Array.from(wrong, (row) => labels[row]), [wrong.length], { dtype: 'i32' }));
  assert.is((await acc1.read()).top1, 0, 'a NaN logit beside a finite label logit: never a top-1 hit');
  acc1.dispose();
  // the predictions argmax gives (evaluate) agree: the first NaN
  const am = await ops.argmax(tensor(z, [rows, classes]), -1).read();
  for (let row = 0; row < rows; row++) {
    const rowv = Array.from(z.subarray(row * classes, (row + 1) * classes));
    const firstNaN = rowv.findIndex(Number.isNaN);
    if (firstNaN >= 0) assert.is(am[row], firstNaN, `argmax of row ${row}`);
  }
});

test.run();
