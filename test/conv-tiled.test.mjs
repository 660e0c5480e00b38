// The tiled implicit-GEMM convolution (kernels/conv2d_tiled.wgsl, src/ops/conv/tiled.ts) and the
// conv autotune (src/ops/conv/tune.ts): every tile configuration forced for all three
// directions on awkward shapes (not multiples of the tile, batch 1, strides 2 and 3, padding,
// groups, channels 1 / 3 / odd, kernels 1 / 2 / 3 / 5 / 7, the fast and the general K paths)
// against the float64 reference and by finite differences, checking through the dispatch
// labels that the configuration's kernels ran and no other path's; then the autotune table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, ops, scope, gpu, tuning, internal } from './helpers/lib.mjs';
import { rng, size, checkGrad } from './helpers/ref.mjs';
import { conv2dRef } from './helpers/conv-ref.mjs';
import { comparePath, withTuning, labelsOf } from './helpers/conv-compare.mjs';

const CONFIGS = Object.keys(tuning.TILE_CONFIGS);
const tag = (cfg) => {
  const t = tuning.TILE_CONFIGS[cfg];
  return `(${t.tm}x${t.tn}x${t.tk})`;
};
const tiledLabels = (cfg) => ['conv2d_tiled_forward', 'conv2d_tiled_input_grad', 'conv2d_tiled_weight_grad'].map((l) => l + tag(cfg));
const OTHER_PATHS = ['conv2d_forward(', 'conv2d_input_grad', 'conv2d_weight_grad(', 'conv2d_im2col', 'conv2d_col2im', 'conv2d_dw', 'matmul('];
const forced = (cfg) => ({ path: { fwd: cfg, dgrad: cfg, wgrad: cfg } });

// [name, x shape, w shape, conv2d options + compare options]
const SHAPES = [
  ['3x3 p1 odd channels relu', [2, 5, 7, 9], [11, 5, 3, 3], { padding: 1, act: 'relu', seed: 101 }],
  // cinG 16, coutG 72: the fast K path in both forward and input gradient; 2 m-tiles and 3 n-tiles of 64
  ['3x3 p1 fast path, several tiles, relu6', [2, 16, 9, 10], [72, 16, 3, 3], { padding: 1, act: 'relu6', wscale: 3, seed: 102 }],
  ['3x3 s2 p1 batch 1, 3 channels', [1, 3, 9, 8], [7, 3, 3, 3], { stride: 2, padding: 1, seed: 103 }],
  ['5x5 no pad, 1 channel (LeNet conv1)', [3, 1, 12, 12], [6, 1, 5, 5], { seed: 104 }],
  ['7x7 s2 p3, no bias (stem)', [1, 3, 15, 13], [8, 3, 7, 7], { stride: 2, padding: 3, bias: false, seed: 105 }],
  // residues of the stride that no tap reaches: their input gradient is zero
  ['1x1 s2 (downsample)', [2, 8, 9, 8], [16, 8, 1, 1], { stride: 2, bias: false, seed: 106 }],
  ['2x2 s3: residues without taps', [1, 4, 10, 11], [6, 4, 2, 2], { stride: 3, seed: 107 }],
  ['3x2 s[2,1] p[0,2] relu6', [2, 3, 7, 5], [5, 3, 3, 2], { stride: [2, 1], padding: [0, 2], act: 'relu6', wscale: 4, seed: 108 }],
  ['groups 2', [2, 6, 7, 5], [4, 3, 3, 3], { padding: 1, groups: 2, seed: 109 }],
  ['groups 4, fast path per group', [1, 32, 6, 6], [32, 8, 3, 3], { padding: 1, groups: 4, act: 'relu', seed: 110 }],
];

/**
 * `count` random geometries (seeded): batch 1–3, channels 1–12 per group, groups 1–3, square
 * or not kernels of 1, 3, 5, 7, strides 1–3, padding up to K − 1, with or without bias, each
 * activation. 1×1 stride-1 unpadded ones are skipped (their forward without bias and their
 * input gradient are matmuls).
 */
function randomShapes(seed, count) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r.next() * a.length)];
  const out = [];
  while (out.length < count) {
    const groups = pick([1, 1, 2, 3]);
    const cing = 1 + Math.floor(r.next() * 12), coutg = 1 + Math.floor(r.next() * 12);
    const kh = pick([1, 3, 5, 7]), kw = pick([kh, kh, 1, 3]);
    const sh = pick([1, 1, 2, 3]), sw = pick([sh, 1, 2]);
    const ph = Math.floor(r.next() * kh), pw = Math.floor(r.next() * kw);
    const h = Math.max(kh - 2 * ph, 1) + Math.floor(r.next() * 9), w = Math.max(kw - 2 * pw, 1) + Math.floor(r.next() * 9);
    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0 && groups === 1) continue;
    const act = pick(['none', 'relu']);
    out.push([`random ${out.length}`, [1 + Math.floor(r.next() * 3), cing * groups, h, w], [coutg * groups, cing, kh, kw],
      { stride: [sh, sw], padding: [ph, pw], groups, act, bias: r.next() < 0.5, seed: seed * 100 + out.length }]);
  }
  return out;
}

for (const [i, cfg] of CONFIGS.entries()) {
  test(`tiled '${cfg}' forced: forward, input and weight gradients on awkward shapes`, async () => {
    await withTuning({ ...forced(cfg), depthwiseKernels: false }, async () => {
      for (const [name, xs, ws, opts] of [...SHAPES, ...randomShapes(140 + i, 8)]) {
        await comparePath(tiledLabels(cfg), OTHER_PATHS, `${cfg} ${name} x${xs} w${ws} ${JSON.stringify(opts)}`, xs, ws, opts);
      }
    });
  });
}

test('tiled: 1×1 with a bias (forward tiled, input gradient as a matmul), depthwise shapes on the tiled kernels', async () => {
  const [fwd, dgrad, wgrad] = tiledLabels('tiled');
  await withTuning(forced('tiled'), async () => {
    // a 1×1 forward with bias is not a matmul (the conv bias runs along rows): tiled; its input gradient is one
    await comparePath([fwd, wgrad, 'matmul('], [dgrad, 'conv2d_forward(', 'conv2d_weight_grad('], '1x1 bias', [2, 5, 6, 7], [7, 5, 1, 1], { seed: 111 });
  });
  await withTuning({ ...forced('tiled'), depthwiseKernels: false }, async () => {
    await comparePath([fwd, dgrad, wgrad], OTHER_PATHS, 'depthwise 3x3 s2 on tiled', [2, 5, 9, 8], [5, 1, 3, 3], { stride: 2, padding: 1, groups: 5, act: 'relu', seed: 112 });
    await comparePath([fwd, dgrad, wgrad], OTHER_PATHS, 'channel multiplier 2 on tiled', [1, 3, 6, 6], [6, 1, 3, 3], { padding: 1, groups: 3, seed: 113 });
  });
});

test('tiled weight gradient: split-K parts summed by REDUCE, and unsplit', async () => {
  const wgrad = tiledLabels('tiled')[2];
  await withTuning({ ...forced('tiled'), minWorkgroups: 1000, minWorkgroupsHardware: 1000 }, async () => {
    // K = N·OH·OW = 1024: 128 steps of 8, split in 4 parts of >= 32 steps
    const labels = await comparePath([wgrad, 'conv2d_split_reduce'], OTHER_PATHS, 'split-K wgrad', [4, 8, 16, 16], [8, 8, 3, 3], { padding: 1, seed: 114 });
    assert.ok(labels.indexOf('conv2d_split_reduce') > labels.findIndex((l) => l.startsWith(wgrad)), 'reduce after the parts');
    // a reduction too short to split: one part
    await comparePath([wgrad], [...OTHER_PATHS, 'conv2d_split_reduce'], 'short K wgrad', [1, 4, 6, 5], [5, 4, 3, 3], { padding: 1, bias: false, seed: 115 });
  });
  await withTuning({ ...forced('tiled-wide'), minWorkgroups: 1, minWorkgroupsHardware: 1 }, async () => {
    await comparePath([tiledLabels('tiled-wide')[2]], [...OTHER_PATHS, 'conv2d_split_reduce'], 'unsplit wgrad', [4, 8, 16, 16], [8, 8, 3, 3], { padding: 1, bias: false, seed: 116 });
  });
});

test('tiled: finite differences through a grouped strided conv with relu6 and a 5×5 padded conv', async () => {
  const r = rng(120);
  const fd = async (what, xs, ws, opts, wscale) => {
    const G = internal.conv2dGeometry(xs, ws, null, opts);
    const ys = [xs[0], ws[0], G.oh, G.ow];
    const R = r.uniform(size(ys));
    const inputs = [r.uniform(size(xs)), r.uniform(size(ws), -wscale, wscale), r.uniform(ws[0])];
    if (opts.act === 'relu6') {
      const y = conv2dRef(inputs[0], xs, inputs[1], ws, inputs[2], opts);
      assert.ok(y.some((v) => v >= 6) && y.some((v) => v > 0 && v < 6), `${what}: relu6 case reaches both sides of 6`);
    }
    const labels = await labelsOf(() => checkGrad({
      inputs,
      shapes: [xs, ws, [ws[0]]],
      engine: (x, w, b) => ops.sum(ops.mul(ops.conv2d(x, w, b, opts), tensor(Float32Array.from(R), ys))),
      ref: (x, w, b) => conv2dRef(x, xs, w, ws, b, opts).reduce((s, v, i) => s + v * R[i], 0),
      what,
    }));
    for (const l of tiledLabels('tiled')) assert.ok(labels.includes(l), `${what}: expected ${l} in ${labels.join(', ')}`);
  };
  await withTuning(forced('tiled'), async () => {
    await fd('tiled fd groups 2 s2 relu6', [1, 4, 5, 4], [4, 2, 3, 3], { stride: 2, padding: 1, groups: 2, act: 'relu6' }, 5);
    await fd('tiled fd 5x5 p2', [2, 3, 6, 5], [4, 3, 5, 5], { padding: 2 }, 1);
  });
});

test('tiled kernels are never the default: the policy keeps the measured rules without a tuning table', () => {
  tuning.clearConvTuning();
  for (const [xs, ws, opts] of [[[2, 16, 9, 10], [72, 16, 3, 3], { padding: 1 }], [[1, 3, 9, 8], [7, 3, 3, 3], { stride: 2, padding: 1 }]]) {
    const G = internal.conv2dGeometry(xs, ws, null, opts);
    for (const dir of ['fwd', 'dgrad', 'wgrad']) {
      assert.ok(tuning.candidatePaths(G, dir).includes('tiled'), `tiled can run ${dir}`);
      assert.is(tuning.convPath(G, dir), tuning.defaultConvPath(G, dir));
      assert.ok(['direct', 'im2col'].includes(tuning.convPath(G, dir)), `${dir}: ${tuning.convPath(G, dir)}`);
    }
  }
});

test('autotuneConv: times the paths, keeps winners per exact shape and bucket, conv2d follows the table', async () => {
  tuning.clearConvTuning();
  try {
    const G = internal.conv2dGeometry([2, 8, 9, 10], [16, 8, 3, 3], null, { padding: 1 });
    const key = (dir) => `${dir}|n2 c8x9x10 o16 k3x3 s1x1 p1x1 g1`;
    // by default a software adapter's autotune leaves the tiled kernels out; a GPU's times them
    const plain = await tuning.autotuneConv({ geoms: [G], reps: 1 });
    for (const dir of ['fwd', 'dgrad', 'wgrad']) {
      const e = plain.shapes[key(dir)];
      assert.ok(e, `${dir} entry in ${Object.keys(plain.shapes).join(', ')}`);
      assert.is('tiled' in e.ms, !gpu().info.isSoftware, `${dir}: ${JSON.stringify(e.ms)}`);
      assert.ok(Number.isFinite(e.ms.direct), `${dir}: ${JSON.stringify(e.ms)}`);
    }
    // a margin of -1e9 lets any finite non-default path win, so the table's effect shows whatever the timings
    const lines = [];
    const t = await tuning.autotuneConv({ geoms: [G], paths: ['direct', 'tiled'], reps: 1, margin: -1e9, log: (l) => lines.push(l) });
    assert.is(lines.length, 3, lines.join('\n'));
    for (const dir of ['fwd', 'dgrad', 'wgrad']) {
      const e = t.shapes[key(dir)];
      assert.ok(Number.isFinite(e.ms.direct) && Number.isFinite(e.ms.tiled), `${dir}: both timed and checked: ${JSON.stringify(e.ms)}`);
      assert.is(e.winner, 'tiled');
      assert.is(t.buckets[tuning.convBucket(G, dir)].winner, 'tiled');
      assert.is(tuning.convPath(G, dir), 'tiled');
    }
    assert.ok(tuning.convTuningTable().shapes[key('fwd')], 'the table is kept for this adapter');
    await comparePath(tiledLabels('tiled'), OTHER_PATHS, 'tuned to tiled', [2, 8, 9, 10], [16, 8, 3, 3], { padding: 1, seed: 121 });
    // a shape measured nowhere follows its bucket's winner
    const G2 = internal.conv2dGeometry([1, 8, 7, 6], [16, 8, 3, 3], null, { padding: 1 });
    assert.is(tuning.convBucket(G2, 'fwd'), tuning.convBucket(G, 'fwd'));
    assert.is(tuning.convPath(G2, 'fwd'), 'tiled');
    // a margin of 1 keeps the default whatever the timings
    const keep = await tuning.autotuneConv({ geoms: [G], paths: ['direct', 'tiled'], reps: 1, margin: 1 });
    for (const dir of ['fwd', 'dgrad', 'wgrad']) assert.is(keep.shapes[key(dir)].winner, tuning.defaultConvPath(G, dir));
    // a forced path overrides the table
    await withTuning({ path: { fwd: 'direct', dgrad: 'auto', wgrad: 'auto' } }, () => assert.is(tuning.convPath(G, 'fwd'), 'direct'));
  } finally {
    tuning.clearConvTuning();
  }
  assert.is(tuning.convTuningTable(), null);
  let err = null;
  try {
    await tuning.autotuneConv({ directions: ['sideways'] });
  } catch (e) {
    err = e;
  }
  assert.ok(err && err.message.includes('autotuneConv') && err.message.includes("'sideways'"), String(err));
});

test('convShapesOf: the distinct geometries a step convolves (forward and backward)', async () => {
  const r = rng(130);
  const x = tensor(Float32Array.from(r.uniform(2 * 3 * 8 * 8)), [2, 3, 8, 8], { requiresGrad: true });
  const w1 = tensor(Float32Array.from(r.uniform(4 * 3 * 9)), [4, 3, 3, 3], { requiresGrad: true });
  const w2 = tensor(Float32Array.from(r.uniform(4 * 4 * 9)), [4, 4, 3, 3], { requiresGrad: true });
  const geoms = await tuning.convShapesOf(() => {
    const loss = scope(() => ops.sum(ops.conv2d(ops.conv2d(ops.conv2d(x, w1, null, { padding: 1 }), w2, null, { padding: 1 }), w2, null, { padding: 1 })));
    loss.backward();
    loss.dispose();
  });
  assert.equal(geoms.map((g) => [g.cin, g.cout]), [[3, 4], [4, 4]]);
  for (const t of [x, w1, w2]) t.dispose();
});

test.run();
