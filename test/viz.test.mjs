// Visualization: CAM and Grad-CAM maps on the GPU against hand-computed maps (each method's
// kernels checked through gpu().onDispatch labels), bilinear upsampling against a float64
// reference, confusion-matrix counts, PNG round trips, and bad input to the commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lib, { tensor, ops, gpu } from './helpers/lib.mjs';
import { rng, assertClose } from './helpers/ref.mjs';
import { pngBytes, writeIdxSet } from './helpers/datasets.mjs';
import { dispatched } from './helpers/dispatches.mjs';

const { viz } = lib;

/** The result of the async `fn` and the labels of the dispatches it made (gpu().onDispatch). */

/** CAM weighs the channels by the fc weights: no backward, no gradient weights; Grad-CAM by the gradients' spatial means. */
function assertMethodKernels(labels, method, what) {
  const count = (l) => labels.filter((x) => x === l).length;
  const msg = (m) => `${what}: ${m} (dispatched: ${labels.join(', ')})`;
  assert.is(count('cam_weighted_sum'), 1, msg('one weighted channel sum'));
  assert.is(count('cam_upsample'), 1, msg('one upsampling'));
  assert.is(count('cam_grad_weights'), method === 'gradcam' ? 1 : 0, msg(method === 'gradcam' ? 'the gradient channel weights' : 'no gradient channel weights'));
  assert.is(labels.some((l) => l.endsWith('_backward')), method === 'gradcam', msg(method === 'gradcam' ? 'a backward pass' : 'no backward pass'));
}

// ---- float64 references -----------------------------------------------------------------

/** PyTorch's bilinear interpolation, align_corners=False, in float64. */
function upsampleRef(src, K, h, w, H, W) {
  const out = new Float64Array(K * H * W);
  const tap = (o, nin, nout) => {
    const x = Math.max((o + 0.5) * (nin / nout) - 0.5, 0);
    const i0 = Math.min(Math.floor(x), nin - 1);
    const i1 = Math.min(i0 + 1, nin - 1);
    return [i0, i1, x - i0];
  };
  for (let k = 0; k < K; k++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const [y0, y1, ly] = tap(y, h, H);
        const [x0, x1, lx] = tap(x, w, W);
        const at = (yy, xx) => src[k * h * w + yy * w + xx];
        out[k * H * W + y * W + x] = (at(y0, x0) * (1 - lx) + at(y0, x1) * lx) * (1 - ly) + (at(y1, x0) * (1 - lx) + at(y1, x1) * lx) * ly;
      }
  return out;
}

test('bilinear upsampling (align_corners=false) matches a float64 reference', async () => {
  const r = rng(11);
  for (const [K, h, w, H, W] of [[2, 3, 5, 7, 12], [1, 4, 4, 28, 28], [3, 7, 6, 3, 4], [1, 1, 1, 5, 3], [2, 5, 3, 5, 3]]) {
    const src = r.uniform(K * h * w, -2, 3);
    const t = tensor(src, [K, h, w]);
    const up = viz.upsampleBilinear(t, H, W);
    assert.equal(up.shape, [K, H, W]);
    assertClose(await up.read(), upsampleRef(src, K, h, w, H, W), { rtol: 1e-5, atol: 1e-5, what: `upsample ${[K, h, w]}→${[H, W]}` });
    t.dispose();
    up.dispose();
  }
});

test('bilinear upsampling: a hand-computed 2×2 → 4×4 case', async () => {
  // in: [[0, 4], [8, 12]]; output coordinate o maps to max((o+0.5)/2-0.5, 0): 0, 0.25, 0.75, 1.5→clamped neighbour.
  const t = tensor([0, 4, 8, 12], [1, 2, 2]);
  const up = viz.upsampleBilinear(t, 4, 4);
  const row = (base) => [base + 0, base + 1, base + 3, base + 4];
  assertClose(await up.read(), [...row(0), ...row(2), ...row(6), ...row(8)], { atol: 1e-6, what: 'upsample 2x2' });
  t.dispose();
  up.dispose();
});

// A tiny network with hand-set weights. Input x [1, 1, 2, 2] = [[1, 2], [3, -1]].
// Features (a 1×1 convolution with 3 output channels + ReLU, built from broadcasting ops):
//   F_c = relu(a_c · x + b_c), a = [1, -1, 2], b = [0, 1, -3]
//   F_0 = [[1, 2], [3, 0]], F_1 = [[0, 0], [0, 2]], F_2 = [[0, 1], [3, 0]]
const X = [1, 2, 3, -1];
const A = [1, -1, 2];
const B = [0, 1, -3];
const F = [[1, 2, 3, 0], [0, 0, 0, 2], [0, 1, 3, 0]];
function tinyFeatures(x) {
  const a = tensor(A, [1, 3, 1, 1]);
  const b = tensor(B, [1, 3, 1, 1]);
  return ops.relu(ops.add(ops.mul(x, a), b));
}

test('CAM of a tiny GAP + linear network equals the hand-computed map', async () => {
  // fc: W [2, 3] = [[1, 0.5, -1], [-1, 2, 1]], bias [0.1, -0.2]
  const Wfc = [1, 0.5, -1, -1, 2, 1];
  const bfc = [0.1, -0.2];
  const w = tensor(Wfc, [2, 3]);
  const bias = tensor(bfc, [2]);
  const net = {
    features: tinyFeatures,
    head: (f) => ops.linear(ops.mean(ops.reshape(f, [f.shape[0], 3, 4]), { axis: 2 }), w, bias),
    fcWeight: w,
  };
  // class 0: 1·F0 + 0.5·F1 − 1·F2 = [[1, 1], [0, 1]];  class 1: −F0 + 2F1 + F2 = [[−1, −1], [0, 4]] → ReLU [[0, 0], [0, 4]]
  const low = [[1, 1, 0, 1], [0, 0, 0, 4]];
  const x = tensor(X, [1, 1, 2, 2]);
  const { result: res, labels } = await dispatched(() => viz.classActivationMaps(net, x, [0, 1], { size: [3, 5] }));
  assert.is(res.method, 'cam');
  assertMethodKernels(labels, 'cam', 'CAM');
  assert.equal(res.featureSize, [2, 2]);
  // logits: GAP(F) = [1.5, 0.5, 1]; z0 = 1.5 + 0.25 − 1 + 0.1 = 0.85; z1 = −1.5 + 1 + 1 − 0.2 = 0.3
  assertClose(res.logits, [0.85, 0.3], { atol: 1e-5, what: 'logits' });
  assertClose(res.maps[0], upsampleRef(low[0], 1, 2, 2, 3, 5), { atol: 1e-5, what: 'CAM class 0' });
  assertClose(res.maps[1], upsampleRef(low[1], 1, 2, 2, 3, 5), { atol: 1e-5, what: 'CAM class 1' });
  // Grad-CAM of a GAP + linear head gives the same maps divided by h·w.
  const { result: g, labels: gl } = await dispatched(() => viz.classActivationMaps(net, x, [1, 0], { method: 'gradcam', size: [3, 5] }));
  assert.is(g.method, 'gradcam');
  assertMethodKernels(gl, 'gradcam', 'Grad-CAM forced on a GAP head');
  assertClose(g.maps[0], upsampleRef(low[1].map((v) => v / 4), 1, 2, 2, 3, 5), { atol: 1e-5, what: 'Grad-CAM (GAP head) class 1' });
  assertClose(g.maps[1], upsampleRef(low[0].map((v) => v / 4), 1, 2, 2, 3, 5), { atol: 1e-5, what: 'Grad-CAM (GAP head) class 0' });
  x.dispose();
});

test('Grad-CAM of a tiny flatten + MLP head equals the hand-computed map', async () => {
  // head: flatten (12) → linear W1 [2, 12] → ReLU → linear W2 [2, 2]
  const W1 = [
    [1, 0, 0, 1, 0, 1, 0, 0, -1, 0, 0, 0], // h0 = F0[0] + F0[3] + F1[1] − F2[0] = 1
    [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0], // h1 = F0[1] + F1[3] + F2[2] = 7
  ];
  const W2 = [[2, -1], [0.5, 3]];
  const w1 = tensor(W1.flat(), [2, 12]);
  const w2 = tensor(W2.flat(), [2, 2]);
  const net = { features: tinyFeatures, head: (f) => ops.linear(ops.relu(ops.linear(ops.flatten(f), w1)), w2) };
  const x = tensor(X, [1, 1, 2, 2]);
  const { result: res, labels } = await dispatched(() => viz.classActivationMaps(net, x, [0, 1], { size: [2, 2] }));
  assert.is(res.method, 'gradcam');
  assertMethodKernels(labels, 'gradcam', 'Grad-CAM');
  // h = [1, 7] (both active); z = [2·1 − 7, 0.5 + 21] = [−5, 21.5]
  assertClose(res.logits, [-5, 21.5], { atol: 1e-4, what: 'logits' });
  // ∂z_k/∂F = Σ_j W2[k, j] W1[j, :] (ReLU active); channel weights = mean over the 4 positions.
  const expected = [0, 1].map((k) => {
    const grad = W1[0].map((v, i) => W2[k][0] * v + W2[k][1] * W1[1][i]);
    const wc = [0, 1, 2].map((c) => (grad[4 * c] + grad[4 * c + 1] + grad[4 * c + 2] + grad[4 * c + 3]) / 4);
    return [0, 1, 2, 3].map((s) => Math.max(0, wc[0] * F[0][s] + wc[1] * F[1][s] + wc[2] * F[2][s]));
  });
  // by hand, class 0: grad = 2·W1[0] − W1[1] → channel sums [2−1+2, 2−1, −2−1]/4 = [0.75, 0.25, −0.75]
  //   map = relu(0.75·F0 + 0.25·F1 − 0.75·F2) = [0.75, 0.75, 0, 0.5]
  assertClose(expected[0], [0.75, 0.75, 0, 0.5], { atol: 1e-12, what: 'hand computation' });
  assertClose(res.maps[0], expected[0], { atol: 1e-5, what: 'Grad-CAM class 0' });
  assertClose(res.maps[1], expected[1], { atol: 1e-5, what: 'Grad-CAM class 1' });
  x.dispose();
});

test('weightedChannelSum without ReLU keeps negative values; shape errors name the arguments', async () => {
  const r = rng(5);
  const C = 5, h = 3, w = 4, K = 3;
  const f = r.uniform(C * h * w, -1, 1);
  const wt = r.uniform(K * C, -1, 1);
  const ft = tensor(f, [1, C, h, w]);
  const wtt = tensor(wt, [K, C]);
  const m = viz.weightedChannelSum(ft, wtt, { relu: false });
  const ref = new Float64Array(K * h * w);
  for (let k = 0; k < K; k++) for (let s = 0; s < h * w; s++) for (let c = 0; c < C; c++) ref[k * h * w + s] += wt[k * C + c] * f[c * h * w + s];
  assertClose(await m.read(), ref, { atol: 1e-5, what: 'weighted sum' });
  assert.throws(() => viz.weightedChannelSum(ft, tensor([1, 2], [1, 2])), /weights must be \[K, 5\]/);
  [ft, wtt, m].forEach((t) => t.dispose());
});

test('gradChannelWeights and weightedChannelSum (ReLU) match float64 references on awkward shapes', async () => {
  const r = rng(17);
  // K·C and K·S above one 64-invocation workgroup, S = h·w odd, shapes not powers of two
  for (const [K, C, h, w] of [[3, 7, 5, 3], [5, 19, 3, 7], [1, 1, 1, 1]]) {
    const S = h * w;
    const g = r.uniform(K * C * S, -2, 1.5);
    const gt = tensor(g, [K, C, h, w]);
    const wt = viz.gradChannelWeights(gt);
    assert.equal(wt.shape, [K, C]);
    const wref = new Float64Array(K * C);
    for (let i = 0; i < K * C; i++) {
      for (let s = 0; s < S; s++) wref[i] += g[i * S + s];
      wref[i] /= S;
    }
    assertClose(await wt.read(), wref, { rtol: 1e-5, atol: 1e-6, what: `gradChannelWeights ${[K, C, h, w]}` });
    const f = r.uniform(C * S, -1, 1);
    const ft = tensor(f, [C, h, w]);
    const m = viz.weightedChannelSum(ft, wt);
    const ref = new Float64Array(K * S);
    for (let k = 0; k < K; k++)
      for (let s = 0; s < S; s++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += wref[k * C + c] * f[c * S + s];
        ref[k * S + s] = Math.max(acc, 0);
      }
    assertClose(await m.read(), ref, { rtol: 1e-4, atol: 1e-5, what: `weightedChannelSum (ReLU) ${[K, C, h, w]}` });
    [gt, wt, ft, m].forEach((t) => t.dispose());
  }
  assert.throws(() => viz.gradChannelWeights(tensor([1, 2, 3], [3])), /gradients must be \[K, C, h, w\]/);
});

test('confusion matrix, per-class accuracy and pair changes on a fixed prediction set', () => {
  const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 1];
  const base = [0, 1, 1, 0, 1, 2, 1, 2, 2, 2];
  const focus = [0, 0, 1, 1, 1, 2, 2, 2, 1, 0];
  const mb = viz.confusionMatrix(labels, base, 3);
  const mf = viz.confusionMatrix(labels, focus, 3);
  assert.equal(mb, [[1, 2, 0], [1, 1, 1], [0, 1, 3]]);
  assert.equal(mf, [[2, 1, 0], [1, 2, 0], [0, 1, 3]]);
  assertClose(viz.perClassAccuracy(mb), [1 / 3, 1 / 3, 3 / 4], { atol: 1e-12 });
  const pairs = viz.pairChanges(mb, mf);
  // pair (0,1): 2+1 → 1+1 (−1); pair (1,2): 1+1 → 0+1 (−1); pair (0,2): 0 → 0 (left out)
  assert.equal(pairs.map((p) => [p.a, p.b, p.baseline, p.focusnet, p.delta]), [[0, 1, 3, 2, -1], [1, 2, 2, 1, -1]]);
  assert.throws(() => viz.confusionMatrix([0, 3], [0, 0], 3), /label 3 at 1/);
  assert.throws(() => viz.confusionMatrix([0], [0, 1], 3), /1 labels but 2 predictions/);
});

test('a PNG written and decoded back gives the same pixels', () => {
  const r = rng(9);
  const cv = new viz.Canvas(37, 23);
  const v = r.uniform(cv.data.length, 0, 256);
  for (let i = 0; i < v.length; i++) cv.data[i] = Math.floor(v[i]);
  const dir = mkdtempSync(join(tmpdir(), 'viz-png-'));
  const p = join(dir, 'x.png');
  cv.writePng(p);
  const back = viz.Canvas.readPng(p);
  assert.is(back.width, 37);
  assert.is(back.height, 23);
  assert.ok(Buffer.from(back.data).equals(Buffer.from(cv.data)), 'pixels differ after the PNG round trip');
  // drawing primitives write where they should
  const c2 = new viz.Canvas(20, 10);
  c2.fillRect(2, 3, 4, 2, [10, 20, 30]);
  c2.text(10, 1, '1', [0, 0, 0]);
  assert.equal(c2.get(3, 4), [10, 20, 30, 255]);
  assert.equal(c2.get(1, 4), [255, 255, 255, 255]);
  assert.equal(c2.get(12, 1), [0, 0, 0, 255]); // top of the '1' glyph (row 0 = 0x04: column 2)
});

// ---- commands: bad input ---------------------------------------------------------------

function captureErr(fn) {
  const orig = console.error;
  let text = '';
  console.error = (...a) => (text += a.join(' ') + '\n');
  return fn().then(
    (rc) => ((console.error = orig), { rc, text }),
    (e) => {
      console.error = orig;
      throw e;
    },
  );
}

test('cam: an index beyond the test split exits 2 naming the index and the split size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viz-idx-'));
  writeIdxSet(dir, { n: 3, m: 3, h: 8, w: 8 });
  writeFileSync(join(dir, 'model.safetensors'), 'not read before the index is checked');
  const { rc, text } = await captureErr(() => viz.runCam(['--arch', 'lenet5', '--checkpoint', join(dir, 'model.safetensors'), '--data', dir, '--index', '3']));
  assert.is(rc, 2);
  assert.match(text, /--index 3 is beyond the test split/);
  assert.match(text, /3 images: 0\.\.2/);
  const r2 = await captureErr(() => viz.runCam(['--arch', 'nosuchnet', '--checkpoint', join(dir, 'model.safetensors'), '--data', dir, '--index', '0']));
  assert.is(r2.rc, 2);
  assert.match(r2.text, /--arch nosuchnet: unknown architecture/);
  const r3 = await captureErr(() => viz.runCam(['--arch', 'lenet5', '--checkpoint', join(dir, 'missing.safetensors'), '--data', dir, '--index', '1']));
  assert.is(r3.rc, 2);
  assert.match(r3.text, /missing\.safetensors: no such file/);
  const r4 = await captureErr(() => viz.runCam(['--arch', 'lenet5', '--data', join(dir, 'nope'), '--checkpoint', join(dir, 'model.safetensors'), '--index', '0']));
  assert.is(r4.rc, 2);
  assert.match(r4.text, /--data: .*nope is not a folder/);
});

test('cam data: an image folder reads as the trainer reads it; a corrupt test image exits 2 naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viz-folder-'));
  const r = rng(11);
  for (const [split, cls, name, w, h] of [['train', 'cat', 'a.png', 9, 6], ['train', 'dog', 'b.png', 5, 7], ['val', 'cat', 'c.png', 13, 8], ['val', 'dog', 'd.png', 6, 11]]) {
    mkdirSync(join(dir, split, cls), { recursive: true });
    const v = r.uniform(w * h * 3, 0, 256);
    writeFileSync(join(dir, split, cls, name), pngBytes(w, h, (x, y) => [0, 1, 2].map((c) => Math.floor(v[(y * w + x) * 3 + c]))));
  }
  const ds = viz.openDataSet(dir, { imageSize: 5 });
  const ref = lib.data.loadDataset(dir, { imageSize: 5 });
  assert.equal(ds.classes, ['cat', 'dog']);
  const norm = lib.data.channelStats(ref.train);
  assert.equal(ds.stats(), norm);
  const bytes = new Uint8Array(75);
  ref.test.readImage(1, bytes, 0);
  const img = ds.image(1);
  assert.equal([img.channels, img.height, img.width, img.label], [3, 5, 5, 1]);
  assert.equal(Array.from(img.pixels, (v) => Math.round(v * 255)), [...bytes]);
  const want = new lib.data.Loader(ref.test, { batchSize: 1, shuffle: false, norm }).batch(1).x;
  assert.equal([...ds.loader(norm, 1).batch(1).x], [...want]);
  writeFileSync(join(dir, 'val', 'dog', 'd.png'), pngBytes(6, 11, () => [1, 2, 3]).subarray(0, 40));
  writeFileSync(join(dir, 'model.safetensors'), 'not read before the image is');
  const { rc, text } = await captureErr(() => viz.runCam(['--arch', 'lenet5', '--checkpoint', join(dir, 'model.safetensors'), '--data', dir, '--index', '1', '--image-size', '8']));
  assert.is(rc, 2);
  assert.match(text, /d\.png: corrupt or truncated image/);
});

test('report: a run folder without metrics exits 2 naming metrics.jsonl', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'viz-run-'));
  const { rc, text } = await captureErr(() => viz.runReport(['--run', dir]));
  assert.is(rc, 2);
  assert.match(text, /has no metrics\.jsonl/);
  writeFileSync(join(dir, 'metrics.jsonl'), '{"stage":"baseline","epoch":1}\nnot json\n');
  const r2 = await captureErr(() => viz.runReport(['--run', dir]));
  assert.is(r2.rc, 2);
  assert.match(r2.text, /metrics\.jsonl:2: not valid JSON/);
  const r3 = await captureErr(() => viz.runReport(['--run', dir, '--bogus', '1']));
  assert.is(r3.rc, 2);
  assert.match(r3.text, /unknown flag --bogus/);
});

test.run();
