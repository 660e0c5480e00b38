// conv2d: forward, input/weight/bias gradients against the float64 reference
// (test/helpers/conv-ref.mjs) with every fused activation ('none', 'relu', 'relu6'), finite
// differences on tiny cases, and bad input. Tests named after a code path check, through
// gpu().onDispatch labels, that the path's kernels ran (and the other paths' did not).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, tuning, internal } from './helpers/lib.mjs';
import { rng, size, checkGrad } from './helpers/ref.mjs';
import { conv2dRef, actOf } from './helpers/conv-ref.mjs';
import { compare, comparePath, withTuning } from './helpers/conv-compare.mjs';

const DIRECT = ['conv2d_forward', 'conv2d_input_grad', 'conv2d_weight_grad'];
const DW = ['conv2d_dw_forward', 'conv2d_dw_weight_grad'];
const LOWERED = ['conv2d_im2col', 'conv2d_col2im', 'conv2d_flip_weight', 'conv2d_bias_act', 'conv2d_act'];
const NO_LOWERING = { im2col: { fwd: false, dgrad: false, wgrad: false } };

test('1×1 matmul path (matmul1x1): matmuls without bias, the conv kernel with bias or stride 2', async () => {
  // forward and input gradient run as matmuls; the weight gradient stays on the conv kernel
  await comparePath(['matmul(', 'conv2d_weight_grad'], ['conv2d_forward', 'conv2d_input_grad', 'conv2d_act'], '1x1 no bias', [2, 5, 6, 7], [7, 5, 1, 1], { bias: false, seed: 2 });
  await comparePath(['matmul(', 'conv2d_weight_grad'], ['conv2d_forward', 'conv2d_input_grad', 'conv2d_act'], '1x1 no bias relu', [2, 5, 6, 7], [7, 5, 1, 1], { bias: false, act: 'relu', seed: 3 });
  // relu6 fused into matmul's epilogue too: no pass after the product
  await comparePath(['matmul('], ['conv2d_forward', 'conv2d_act'], '1x1 no bias relu6', [2, 5, 6, 7], [7, 5, 1, 1], { bias: false, act: 'relu6', wscale: 4, seed: 4 });
  await comparePath(['conv2d_forward', 'matmul('], ['conv2d_input_grad'], '1x1 bias relu', [2, 5, 6, 7], [7, 5, 1, 1], { bias: true, act: 'relu', seed: 3 });
  await comparePath(['conv2d_forward', 'conv2d_input_grad'], ['matmul('], '1x1 stride 2', [1, 3, 5, 6], [4, 3, 1, 1], { stride: 2, seed: 4 });
});

test('1×1 convolution through the implicit-GEMM kernels (matmul1x1 off)', async () => {
  await withTuning({ matmul1x1: false }, async () => {
    await comparePath(DIRECT, ['matmul('], '1x1 kernel path', [2, 5, 6, 7], [7, 5, 1, 1], { bias: false, seed: 5 });
    await comparePath(DIRECT, ['matmul('], '1x1 kernel path relu6', [2, 5, 6, 7], [7, 5, 1, 1], { bias: false, act: 'relu6', wscale: 4, seed: 6 });
  });
});

test('3×3 padding 1, bias, odd sizes, H ≠ W, channels not multiples of 4, relu and relu6', async () => {
  await compare('3x3 pad1', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, seed: 6 });
  await compare('3x3 pad1 relu', [2, 3, 6, 5], [6, 3, 3, 3], { padding: 1, act: 'relu', seed: 7 });
  await compare('3x3 pad1 relu6', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, act: 'relu6', wscale: 3, seed: 8 });
  await compare('3x3 no pad no bias batch 1', [1, 7, 9, 6], [9, 7, 3, 3], { bias: false, seed: 8 });
});

test('5×5 LeNet convolutions, no padding', async () => {
  await compare('lenet conv1', [3, 1, 12, 12], [6, 1, 5, 5], { seed: 9 });
  await compare('lenet conv2', [2, 6, 12, 12], [16, 6, 5, 5], { act: 'relu', seed: 10 });
});

test('stride 2 with padding 1, and mixed strides / paddings', async () => {
  await compare('3x3 s2 p1', [2, 5, 9, 7], [6, 5, 3, 3], { stride: 2, padding: 1, seed: 11 });
  await compare('3x3 s2 p1 even', [1, 4, 8, 8], [12, 4, 3, 3], { stride: 2, padding: 1, bias: false, seed: 12 });
  await compare('3x2 s[2,1] p[0,2]', [2, 3, 7, 5], [5, 3, 3, 2], { stride: [2, 1], padding: [0, 2], seed: 13 });
  await compare('3x2 s[2,1] p[0,2] relu6', [2, 3, 7, 5], [5, 3, 3, 2], { stride: [2, 1], padding: [0, 2], act: 'relu6', wscale: 4, seed: 14 });
});

test('depthwise kernels: 3×3 stride 1 and 2, 5×5, with and without bias / relu / relu6', async () => {
  const dgradOneChannel = 'conv2d_input_grad(1x';
  const run = (name, xs, ws, opts) => comparePath([...DW, dgradOneChannel], ['conv2d_forward', 'conv2d_weight_grad', ...LOWERED], name, xs, ws, opts);
  await run('dw 3x3 s1', [2, 6, 7, 9], [6, 1, 3, 3], { padding: 1, groups: 6, bias: false, seed: 15 });
  await run('dw 3x3 s2', [2, 5, 9, 8], [5, 1, 3, 3], { stride: 2, padding: 1, groups: 5, act: 'relu', seed: 16 });
  await run('dw 3x3 s2 odd', [1, 3, 7, 7], [3, 1, 3, 3], { stride: 2, padding: 1, groups: 3, seed: 17 });
  await run('dw 5x5 s1', [2, 4, 8, 6], [4, 1, 5, 5], { padding: 2, groups: 4, seed: 18 });
  await run('dw 5x5 s2 relu6', [1, 4, 9, 9], [4, 1, 5, 5], { stride: 2, padding: 2, groups: 4, act: 'relu6', wscale: 4, seed: 20 });
  await run('dw 3x3 no pad', [1, 3, 6, 5], [3, 1, 3, 3], { groups: 3, seed: 19 });
  await run('dw 3x3 s1 relu6 no bias', [2, 6, 7, 9], [6, 1, 3, 3], { padding: 1, groups: 6, bias: false, act: 'relu6', wscale: 6, seed: 24 });
});

test('depthwise shapes on the grouped implicit-GEMM kernels (depthwiseKernels off)', async () => {
  await withTuning({ depthwiseKernels: false }, async () => {
    await comparePath(DIRECT, DW, 'dw 3x3 s2 grouped kernels', [2, 5, 9, 8], [5, 1, 3, 3], { stride: 2, padding: 1, groups: 5, act: 'relu', seed: 16 });
    await comparePath(DIRECT, DW, 'dw 5x5 relu6 grouped kernels', [2, 4, 8, 6], [4, 1, 5, 5], { padding: 2, groups: 4, act: 'relu6', wscale: 6, seed: 25 });
  });
});

test('grouped convolution (groups = 2, 3) and channel multipliers on the direct kernels', async () => {
  const run = (name, xs, ws, opts) => comparePath(DIRECT, [...DW, ...LOWERED], name, xs, ws, opts);
  await run('groups 2', [2, 6, 7, 5], [4, 3, 3, 3], { padding: 1, groups: 2, seed: 21 });
  await run('groups 3 s2', [1, 6, 8, 9], [9, 2, 3, 3], { stride: 2, padding: 1, groups: 3, act: 'relu', seed: 22 });
  await run('groups 2 relu6', [2, 6, 7, 5], [4, 3, 3, 3], { padding: 1, groups: 2, act: 'relu6', wscale: 4, seed: 26 });
  await run('dw multiplier 2', [1, 3, 6, 6], [6, 1, 3, 3], { padding: 1, groups: 3, seed: 23 });
});

test('other register-block shapes (4×4, depthwise 4 columns) agree with the reference', async () => {
  await withTuning({ fwd: { bm: 4, bp: 4 }, dgrad: { bm: 4, bp: 4 }, wgrad: { bm: 4, bp: 4 }, dwBp: 4, fwdBpExtra: [], ...NO_LOWERING }, async () => {
    await comparePath(['conv2d_forward(4x4)', 'conv2d_input_grad(4x4)', 'conv2d_weight_grad(4x4)'], [], 'blocks 4x4', [2, 5, 7, 6], [10, 5, 3, 3], { stride: [1, 2], padding: 1, seed: 31 });
    await comparePath(DW, [], 'dw blocks x4', [1, 4, 7, 9], [4, 1, 3, 3], { stride: 2, padding: 1, groups: 4, seed: 41 });
  });
});

test('split: weight and bias gradients split the N·OH·OW reduction and sum the parts', async () => {
  // minWorkgroups forces many splits; biasGradSplit splits the bias gradient (GPUs only by default)
  await withTuning({ minWorkgroups: 1000, minWorkgroupsHardware: 1000, biasGradSplit: true, ...NO_LOWERING }, async () => {
    for (const [name, xs, ws, opts, kernel] of [
      ['split wgrad', [3, 4, 6, 5], [5, 4, 3, 3], { padding: 1, seed: 50 }, 'conv2d_weight_grad'],
      ['split dw wgrad', [4, 3, 16, 16], [3, 1, 3, 3], { padding: 1, groups: 3, seed: 51 }, 'conv2d_dw_weight_grad'],
    ]) {
      const labels = await comparePath([kernel, 'conv2d_bias_grad'], [], name, xs, ws, opts);
      // the weight and the bias gradient each sum their parts
      assert.is(labels.filter((l) => l === 'conv2d_split_reduce').length, 2, `${name}: ${labels.join(', ')}`);
    }
  });
  // and unsplit: one dispatch each, no reduce
  await withTuning({ minWorkgroups: 1, minWorkgroupsHardware: 1, biasGradSplit: false, ...NO_LOWERING }, async () => {
    await comparePath(['conv2d_weight_grad', 'conv2d_bias_grad'], ['conv2d_split_reduce'], 'unsplit wgrad', [1, 4, 6, 5], [5, 4, 3, 3], { padding: 1, seed: 52 });
  });
});

test('finite differences through conv2d (3×3 s2 p1 grouped, depthwise relu, relu6 direct / lowered / depthwise)', async () => {
  const r = rng(60);
  const fd = async (what, xs, ws, opts, { bias = true, wscale = 1, over = {} } = {}) => {
    const G = internal.conv2dGeometry(xs, ws, null, opts);
    const ys = [xs[0], ws[0], G.oh, G.ow];
    const R = r.uniform(size(ys));
    const inputs = [r.uniform(size(xs)), r.uniform(size(ws), -wscale, wscale), ...(bias ? [r.uniform(ws[0])] : [])];
    if (actOf(opts) === 'relu6') {
      const y = conv2dRef(inputs[0], xs, inputs[1], ws, inputs[2] ?? null, opts);
      assert.ok(y.some((v) => v >= 6) && y.some((v) => v > 0 && v < 6), `${what}: relu6 case reaches both sides of 6`);
    }
    await withTuning(over, () => checkGrad({
      inputs,
      shapes: [xs, ws, ...(bias ? [[ws[0]]] : [])],
      engine: (x, w, b) => ops.sum(ops.mul(ops.conv2d(x, w, b ?? null, opts), tensor(Float32Array.from(R), ys))),
      ref: (x, w, b) => conv2dRef(x, xs, w, ws, b ?? null, opts).reduce((s, v, i) => s + v * R[i], 0),
      what,
    }));
  };
  await fd('conv2d fd', [1, 4, 5, 4], [4, 2, 3, 3], { stride: 2, padding: 1, groups: 2 });
  await fd('depthwise relu fd', [1, 3, 6, 5], [3, 1, 3, 3], { stride: 2, padding: 1, groups: 3, act: 'relu' }, { bias: false });
  await fd('relu6 direct fd', [1, 3, 5, 6], [4, 3, 3, 3], { padding: 1, act: 'relu6' }, { wscale: 4, over: NO_LOWERING });
  await fd('relu6 im2col fd', [1, 3, 5, 6], [4, 3, 3, 3], { padding: 1, act: 'relu6' }, { wscale: 4, over: { im2col: { fwd: true, dgrad: true, wgrad: true } } });
  await fd('relu6 depthwise fd', [1, 3, 6, 5], [3, 1, 3, 3], { padding: 1, groups: 3, act: 'relu6' }, { bias: false, wscale: 6 });
});

test('im2col lowering to matmulRaw (forced; rb and sg matmuls): strides, padding, batch 1, awkward shapes, relu / relu6', async () => {
  const variants = ['rb', ...(tuning.subgroupMatmulSupported() ? ['sg'] : [])];
  const all = { im2col: { fwd: true, dgrad: true, wgrad: true } };
  // every direction lowered: the im2col kernels and matmuls run, the direct kernels don't
  const fwdWgrad = ['conv2d_im2col(cols)', 'conv2d_im2col(rows)', 'matmul('];
  const flipped = [...fwdWgrad, 'conv2d_flip_weight'];
  const col2im = [...fwdWgrad, 'conv2d_col2im'];
  for (const v of variants) {
    await withTuning(all, async () => {
      tuning.setMatmulVariant(v);
      const run = (ran, not, name, xs, ws, opts) => comparePath(ran, [...DIRECT, ...not], `im2col ${v} ${name}`, xs, ws, opts);
      await run([...flipped, 'conv2d_bias_act'], ['conv2d_col2im'], '3x3 pad1 relu', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, act: 'relu', seed: 31 });
      await run([...flipped, 'conv2d_bias_act'], ['conv2d_col2im'], '3x3 pad1 relu6', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, act: 'relu6', wscale: 3, seed: 37 });
      await run([...col2im, 'conv2d_bias_act'], ['conv2d_flip_weight'], '3x3 s2 p1 batch 1', [1, 3, 9, 8], [7, 3, 3, 3], { stride: 2, padding: 1, seed: 32 });
      await run(flipped, ['conv2d_bias_act', 'conv2d_act'], '5x5 no pad', [3, 2, 10, 9], [5, 2, 5, 5], { bias: false, seed: 33 });
      // relu without a bias runs in matmul's epilogue; relu6 without a bias takes the activation pass
      await run(flipped, ['conv2d_bias_act', 'conv2d_act'], '3x3 relu without bias', [2, 3, 6, 7], [5, 3, 3, 3], { padding: 1, bias: false, act: 'relu', seed: 36 });
      await run(flipped, ['conv2d_bias_act', 'conv2d_act'], '3x3 relu6 without bias (fused into matmul)', [2, 3, 6, 7], [5, 3, 3, 3], { padding: 1, bias: false, act: 'relu6', wscale: 4, seed: 38 });
      // stride 1 but padding 3 > K−1: no flipped form, col2im
      await run(col2im, ['conv2d_flip_weight'], '3x3 p[3,0] (stride 1, col2im)', [2, 3, 5, 6], [4, 3, 3, 3], { padding: [3, 0], seed: 35 });
      await run(col2im, ['conv2d_flip_weight'], '3x2 s[2,1] p[0,2]', [2, 4, 7, 6], [6, 4, 3, 2], { stride: [2, 1], padding: [0, 2], seed: 34 });
    });
  }
});

test('flipped forward: stride-1 input gradient on the dgrad kernel (dgradAsForward off) and as a forward (forced on)', async () => {
  for (const mode of [false, true]) {
    await withTuning({ dgradAsForward: mode, ...NO_LOWERING }, async () => {
      const ran = mode ? ['conv2d_flip_weight', 'conv2d_input_grad_as_forward'] : ['conv2d_input_grad('];
      const not = mode ? ['conv2d_input_grad('] : ['conv2d_flip_weight', 'conv2d_input_grad_as_forward'];
      await comparePath(ran, not, `dgradAsForward=${mode} 3x3 pad1`, [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, seed: 41 });
      await comparePath(ran, not, `dgradAsForward=${mode} 5x5 LeNet-like relu6`, [3, 6, 9, 8], [7, 6, 5, 5], { act: 'relu6', wscale: 2, seed: 42 });
      await comparePath(ran, not, `dgradAsForward=${mode} 3x2 p[2,1] batch 1`, [1, 3, 6, 5], [4, 3, 3, 2], { padding: [2, 1], seed: 43 });
    });
  }
});

test('act option: bad activations and unknown options (the former relu flag) are refused', async () => {
  const r = rng(70);
  const x = tensor(Float32Array.from(r.uniform(2 * 3 * 6 * 5)), [2, 3, 6, 5]);
  const w = tensor(Float32Array.from(r.uniform(4 * 3 * 9)), [4, 3, 3, 3]);
  const a = ops.conv2d(x, w, null, { padding: 1, act: 'relu' });
  const va = await a.read();
  assert.ok(va.some((v) => v === 0) && va.some((v) => v > 0), 'relu case has both signs');
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
  expectErr(() => ops.conv2d(x, w, null, { act: 'gelu' }), "'gelu'", "'relu6'");
  expectErr(() => ops.conv2d(x, w, null, { act: true }), 'activation');
  expectErr(() => ops.conv2d(x, w, null, { relu: true }), "unknown option 'relu'", "use act: 'relu'");
  expectErr(() => ops.conv2d(x, w, null, { pading: 1 }), "unknown option 'pading'", 'stride, padding, groups, act');
  for (const t of [x, w, a]) t.dispose();
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
