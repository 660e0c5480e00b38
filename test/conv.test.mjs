// conv2d: forward, input/weight/bias gradients against the float64 reference
// (test/helpers/conv-ref.mjs), finite differences on tiny cases, and bad input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, scope, gpu, tuning, internal } from './helpers/lib.mjs';
import { rng, size, assertClose, checkGrad } from './helpers/ref.mjs';
import { conv2dRef, conv2dGradRef } from './helpers/conv-ref.mjs';

const TOL = { rtol: 2e-4, atol: 2e-4 };

/**
 * Run conv2d forward + backward of L = Σ R·y on the engine and compare y, dL/dx, dL/dw,
 * dL/db with the reference. `opts` are conv2d's options (relu included).
 */
async function compare(name, xs, ws, { bias = true, seed = 1, ...opts } = {}) {
  const r = rng(seed);
  const x = Float64Array.from(Float32Array.from(r.uniform(size(xs))));
  const w = Float64Array.from(Float32Array.from(r.uniform(size(ws), -0.5, 0.5)));
  const b = bias ? Float64Array.from(Float32Array.from(r.uniform(ws[0]))) : null;
  const y = conv2dRef(x, xs, w, ws, b, opts);
  const R = Float64Array.from(Float32Array.from(r.uniform(y.length)));
  const tx = tensor(Float32Array.from(x), xs, { requiresGrad: true });
  const tw = tensor(Float32Array.from(w), ws, { requiresGrad: true });
  const tb = b ? tensor(Float32Array.from(b), [ws[0]], { requiresGrad: true }) : null;
  const ys = scope(() => {
    const out = ops.conv2d(tx, tw, tb, opts);
    const tR = tensor(Float32Array.from(R), out.shape);
    return [out, ops.sum(ops.mul(out, tR))];
  });
  const [ty, loss] = ys;
  assert.equal([...ty.shape], [xs[0], ws[0], y.length / (xs[0] * ws[0] * ty.shape[3]), ty.shape[3]], `${name}: output shape`);
  assertClose(await ty.read(), y, { ...TOL, what: `${name}: forward` });
  loss.backward();
  // upstream gradient of the pre-activation: R masked by the ReLU
  const gy = opts.relu ? R.map((v, i) => (y[i] > 0 ? v : 0)) : R;
  const ref = conv2dGradRef(gy, x, xs, w, ws, opts);
  assertClose(await tx.grad.read(), ref.gx, { ...TOL, what: `${name}: d/dx` });
  assertClose(await tw.grad.read(), ref.gw, { rtol: 2e-4, atol: 5e-4, what: `${name}: d/dw` });
  if (tb) assertClose(await tb.grad.read(), ref.gb, { rtol: 2e-4, atol: 5e-4, what: `${name}: d/db` });
  for (const t of [tx, tw, tb, ty, loss]) t?.dispose();
}

/** The labels of the dispatches `fn` issues. */
async function dispatched(fn) {
  const labels = [];
  const prev = gpu().onDispatch;
  gpu().onDispatch = (l) => labels.push(l);
  try {
    await fn();
  } finally {
    gpu().onDispatch = prev;
  }
  return labels;
}

test('1×1 convolution (matmul path without bias, kernel path with bias)', async () => {
  await compare('1x1 no bias', [2, 5, 6, 7], [7, 5, 1, 1], { bias: false, seed: 2 });
  await compare('1x1 bias relu', [2, 5, 6, 7], [7, 5, 1, 1], { bias: true, relu: true, seed: 3 });
  await compare('1x1 stride 2', [1, 3, 5, 6], [4, 3, 1, 1], { stride: 2, seed: 4 });
});

test('1×1 convolution through the implicit-GEMM kernels', async () => {
  tuning.convTuning.matmul1x1 = false;
  try {
    await compare('1x1 kernel path', [2, 5, 6, 7], [7, 5, 1, 1], { bias: false, seed: 5 });
  } finally {
    tuning.convTuning.matmul1x1 = true;
  }
});

test('3×3 padding 1, bias, odd sizes, H ≠ W, channels not multiples of 4', async () => {
  await compare('3x3 pad1', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, seed: 6 });
  await compare('3x3 pad1 relu', [2, 3, 6, 5], [6, 3, 3, 3], { padding: 1, relu: true, seed: 7 });
  await compare('3x3 no pad no bias batch 1', [1, 7, 9, 6], [9, 7, 3, 3], { bias: false, seed: 8 });
});

test('5×5 LeNet convolutions, no padding', async () => {
  await compare('lenet conv1', [3, 1, 12, 12], [6, 1, 5, 5], { seed: 9 });
  await compare('lenet conv2', [2, 6, 12, 12], [16, 6, 5, 5], { relu: true, seed: 10 });
});

test('stride 2 with padding 1, and mixed strides / paddings', async () => {
  await compare('3x3 s2 p1', [2, 5, 9, 7], [6, 5, 3, 3], { stride: 2, padding: 1, seed: 11 });
  await compare('3x3 s2 p1 even', [1, 4, 8, 8], [12, 4, 3, 3], { stride: 2, padding: 1, bias: false, seed: 12 });
  await compare('3x2 s[2,1] p[0,2]', [2, 3, 7, 5], [5, 3, 3, 2], { stride: [2, 1], padding: [0, 2], seed: 13 });
});

test('depthwise 3×3 stride 1 and 2, 5×5, with and without bias / relu', async () => {
  await compare('dw 3x3 s1', [2, 6, 7, 9], [6, 1, 3, 3], { padding: 1, groups: 6, bias: false, seed: 15 });
  await compare('dw 3x3 s2', [2, 5, 9, 8], [5, 1, 3, 3], { stride: 2, padding: 1, groups: 5, relu: true, seed: 16 });
  await compare('dw 3x3 s2 odd', [1, 3, 7, 7], [3, 1, 3, 3], { stride: 2, padding: 1, groups: 3, seed: 17 });
  await compare('dw 5x5 s1', [2, 4, 8, 6], [4, 1, 5, 5], { padding: 2, groups: 4, seed: 18 });
  await compare('dw 3x3 no pad', [1, 3, 6, 5], [3, 1, 3, 3], { groups: 3, seed: 19 });
});

test('grouped convolution (groups = 2, 3) and channel multipliers', async () => {
  await compare('groups 2', [2, 6, 7, 5], [4, 3, 3, 3], { padding: 1, groups: 2, seed: 21 });
  await compare('groups 3 s2', [1, 6, 8, 9], [9, 2, 3, 3], { stride: 2, padding: 1, groups: 3, relu: true, seed: 22 });
  await compare('dw multiplier 2', [1, 3, 6, 6], [6, 1, 3, 3], { padding: 1, groups: 3, seed: 23 });
});

test('other register-block shapes agree with the reference', async () => {
  const saved = JSON.parse(JSON.stringify(tuning.convTuning));
  try {
    tuning.convTuning.fwd = { bm: 4, bp: 4 };
    tuning.convTuning.dgrad = { bm: 4, bp: 4 };
    tuning.convTuning.wgrad = { bm: 4, bp: 4 };
    tuning.convTuning.dwBp = 4;
    await compare('blocks 4x4', [2, 5, 7, 6], [10, 5, 3, 3], { stride: [1, 2], padding: 1, seed: 31 });
    await compare('dw blocks x4', [1, 4, 7, 9], [4, 1, 3, 3], { stride: 2, padding: 1, groups: 4, seed: 41 });
  } finally {
    Object.assign(tuning.convTuning, saved);
  }
});

test('weight and bias gradients split the N·OH·OW reduction and sum the parts', async () => {
  const prev = tuning.convTuning.minWorkgroups;
  const prevBias = tuning.convTuning.biasGradSplit;
  try {
    tuning.convTuning.minWorkgroups = 1000; // forces many splits
    tuning.convTuning.biasGradSplit = true; // (GPUs only by default)
    for (const [name, xs, ws, opts] of [
      ['split wgrad', [3, 4, 6, 5], [5, 4, 3, 3], { padding: 1, seed: 50 }],
      ['split dw wgrad', [4, 3, 16, 16], [3, 1, 3, 3], { padding: 1, groups: 3, seed: 51 }],
    ]) {
      const labels = await dispatched(() => compare(name, xs, ws, opts));
      // the weight and the bias gradient each sum their parts
      assert.is(labels.filter((l) => l === 'conv2d_split_reduce').length, 2, `${name}: ${labels.join(', ')}`);
    }
  } finally {
    tuning.convTuning.minWorkgroups = prev;
    tuning.convTuning.biasGradSplit = prevBias;
  }
});

test('finite differences through conv2d (3×3 s2 p1, grouped, relu)', async () => {
  const r = rng(60);
  const xs = [1, 4, 5, 4];
  const ws = [4, 2, 3, 3];
  const opts = { stride: 2, padding: 1, groups: 2 };
  const R = r.uniform(4 * 3 * 2);
  await checkGrad({
    inputs: [r.uniform(size(xs)), r.uniform(size(ws)), r.uniform(4)],
    shapes: [xs, ws, [4]],
    engine: (x, w, b) => ops.sum(ops.mul(ops.conv2d(x, w, b, opts), tensor(Float32Array.from(R), [1, 4, 3, 2]))),
    ref: (x, w, b) => conv2dRef(x, xs, w, ws, b, opts).reduce((s, v, i) => s + v * R[i], 0),
    what: 'conv2d fd',
  });
  const R2 = r.uniform(3 * 3 * 3);
  await checkGrad({
    inputs: [r.uniform(size([1, 3, 6, 5])), r.uniform(3 * 9)],
    shapes: [[1, 3, 6, 5], [3, 1, 3, 3]],
    engine: (x, w) => ops.sum(ops.mul(ops.conv2d(x, w, null, { stride: 2, padding: 1, groups: 3, relu: true }), tensor(Float32Array.from(R2), [1, 3, 3, 3]))),
    ref: (x, w) => conv2dRef(x, [1, 3, 6, 5], w, [3, 1, 3, 3], null, { stride: 2, padding: 1, groups: 3, relu: true }).reduce((s, v, i) => s + v * R2[i], 0),
    what: 'depthwise relu fd',
  });
});

test('im2col lowering to matmulRaw (forced; rb and sg matmuls): strides, padding, batch 1, awkward shapes', async () => {
  const saved = { ...tuning.convTuning.im2col };
  tuning.convTuning.im2col = { fwd: true, dgrad: true, wgrad: true };
  const variants = ['rb', ...(tuning.subgroupMatmulSupported() ? ['sg'] : [])];
  try {
    for (const v of variants) {
      tuning.setMatmulVariant(v);
      await compare(`im2col ${v} 3x3 pad1 relu`, [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, relu: true, seed: 31 });
      await compare(`im2col ${v} 3x3 s2 p1 batch 1`, [1, 3, 9, 8], [7, 3, 3, 3], { stride: 2, padding: 1, seed: 32 });
      await compare(`im2col ${v} 5x5 no pad`, [3, 2, 10, 9], [5, 2, 5, 5], { bias: false, seed: 33 });
      const labels = await dispatched(() =>
        compare(`im2col ${v} 3x3 relu without bias`, [2, 3, 6, 7], [5, 3, 3, 3], { padding: 1, bias: false, relu: true, seed: 36 }));
      assert.ok(labels.includes('conv2d_im2col(cols)') && !labels.includes('conv2d_bias_act'), `relu in matmul's epilogue: ${labels.join(', ')}`);
      await compare(`im2col ${v} 3x3 p[3,0] (stride 1, col2im)`, [2, 3, 5, 6], [4, 3, 3, 3], { padding: [3, 0], seed: 35 });
      await compare(`im2col ${v} 3x2 s[2,1] p[0,2]`, [2, 4, 7, 6], [6, 4, 3, 2], { stride: [2, 1], padding: [0, 2], seed: 34 });
    }
  } finally {
    tuning.setMatmulVariant(null);
    tuning.convTuning.im2col = saved;
  }
});

test('stride-1 input gradient on the dgrad kernel (dgradAsForward off) and forced on', async () => {
  for (const mode of [false, true]) {
    tuning.convTuning.dgradAsForward = mode;
    try {
      await compare(`dgradAsForward=${mode} 3x3 pad1`, [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, seed: 41 });
      await compare(`dgradAsForward=${mode} 5x5 LeNet-like`, [3, 6, 9, 8], [7, 6, 5, 5], { seed: 42 });
      await compare(`dgradAsForward=${mode} 3x2 p[2,1] batch 1`, [1, 3, 6, 5], [4, 3, 3, 2], { padding: [2, 1], seed: 43 });
    } finally {
      tuning.convTuning.dgradAsForward = 'auto';
    }
  }
});

test('bad input: ranks, channel and group mismatches, kernel larger than padded input', () => {
  const x = tensor(new Float32Array(2 * 4 * 5 * 5).fill(0.5), [2, 4, 5, 5]);
  const x3 = tensor(new Float32Array(4 * 5 * 5).fill(0.5), [4, 5, 5]);
  const w = (s) => tensor(new Float32Array(size(s)).fill(0.1), s);
  const expectErr = (fn, ...parts) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e.message.includes('conv2d'), `names the op: ${e.message}`);
      for (const p of parts) assert.ok(e.message.includes(p), `mentions '${p}': ${e.message}`);
      return;
    }
    assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
  };
  expectErr(() => ops.conv2d(x3, w([3, 4, 3, 3])), '[4, 5, 5]', '4-D');
  expectErr(() => ops.conv2d(x, w([3, 4, 3])), '[3, 4, 3]', 'weight');
  expectErr(() => ops.conv2d(x, w([3, 3, 3, 3])), '[2, 4, 5, 5]', '[3, 3, 3, 3]');
  expectErr(() => ops.conv2d(x, w([3, 1, 3, 3]), null, { groups: 3 }), 'not divisible by groups 3', '[2, 4, 5, 5]');
  expectErr(() => ops.conv2d(x, w([3, 2, 3, 3]), null, { groups: 2 }), 'output channels 3', '[3, 2, 3, 3]');
  expectErr(() => ops.conv2d(x, w([4, 4, 3, 3]), null, { groups: 2 }), 'per group', '[4, 4, 3, 3]');
  expectErr(() => ops.conv2d(x, w([3, 4, 7, 3])), 'larger than the padded input', '[3, 4, 7, 3]');
  expectErr(() => ops.conv2d(x, w([3, 4, 8, 8]), null, { padding: 1 }), 'larger than the padded input', '7×7');
  expectErr(() => ops.conv2d(x, w([3, 4, 3, 3]), w([4])), 'bias', '[4]');
  expectErr(() => ops.conv2d(x, w([3, 4, 3, 3]), null, { stride: 0 }), 'stride');
  expectErr(() => ops.conv2d(x, w([3, 4, 3, 3]), null, { padding: -1 }), 'padding');
  // a kernel that just fits the padded input is fine
  const G = internal.conv2dGeometry([2, 4, 5, 5], [3, 4, 7, 7], null, { padding: 1 });
  assert.equal([G.n, G.cout, G.oh, G.ow], [2, 3, 1, 1]);
  for (const t of [x, x3]) t.dispose();
});

test.run();
