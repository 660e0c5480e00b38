// Batch normalization throughput: forward (training and eval) and backward in GB/s of the
// bytes that must move (forward: read x, write y; backward: read g and x, write dx), next to
// the adapter's copy bandwidth measured in the same run. Target: >= half the copy bandwidth.
//   npm run bench -- batchnorm [--quick]
import { lib, g, timeMs, copyBandwidth, printTable, writeJson, adapterLine } from './common.mjs';

const { ops, tensor, keep } = lib;

function randomTensor(shape, requiresGrad = false) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = (s / 4294967296) * 4 - 2; }
  return keep(tensor(data, shape, { requiresGrad }));
}

export async function run(args = []) {
  const quick = args.includes('--quick');
  const reps = quick ? 3 : 7;
  console.log(`adapter: ${adapterLine()}`);
  const copy = await copyBandwidth();
  const shapes = [[32, 64, 32, 32], [256, 6, 28, 28]];
  const rows = [];
  const results = { copyGBs: copy, cases: [] };
  for (const shape of shapes) {
    const [, C] = shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomTensor(shape, true);
    const gy = randomTensor(shape);
    const gamma = keep(tensor(Float32Array.from({ length: C }, (_, i) => 1 + 0.01 * i), [C], { requiresGrad: true }));
    const beta = keep(tensor(new Float32Array(C).fill(0.1), [C], { requiresGrad: true }));
    const rm = keep(tensor(new Float32Array(C), [C]));
    const rv = keep(tensor(new Float32Array(C).fill(1), [C]));
    const fwdTrain = await timeMs(() => lib.noGrad(() => ops.batchNorm2d(x, gamma, beta, rm, rv, { training: true })), { reps });
    const fwdRelu = await timeMs(() => lib.noGrad(() => ops.batchNorm2d(x, gamma, beta, rm, rv, { training: true, act: 'relu' })), { reps });
    const fwdEval = await timeMs(() => lib.noGrad(() => ops.batchNorm2d(x, gamma, beta, rm, rv, { training: false })), { reps });
    // forward + backward through the tape; backward = difference (the seed gradient copy included)
    const fwdBwd = await timeMs(() => {
      const y = ops.batchNorm2d(x, gamma, beta, rm, rv, { training: true });
      y.backward(gy);
      x.grad.dispose(); x.grad = null;
      gamma.grad.dispose(); gamma.grad = null;
      beta.grad.dispose(); beta.grad = null;
    }, { reps });
    const bwd = Math.max(1e-6, fwdBwd - fwdTrain);
    const gbs = (bytes, ms) => bytes / (ms * 1e6);
    const b = 4 * n;
    const entry = {
      shape,
      fwdTrainMs: fwdTrain, fwdTrainGBs: gbs(2 * b, fwdTrain),
      fwdReluGBs: gbs(2 * b, fwdRelu),
      fwdEvalMs: fwdEval, fwdEvalGBs: gbs(2 * b, fwdEval),
      bwdMs: bwd, bwdGBs: gbs(3 * b, bwd),
    };
    results.cases.push(entry);
    const sh = JSON.stringify(shape);
    const ratio = (v) => `${(v / copy).toFixed(2)}`;
    rows.push({ case: `${sh} forward (train)`, ms: fwdTrain.toFixed(2), 'GB/s': entry.fwdTrainGBs.toFixed(2), 'x copy': ratio(entry.fwdTrainGBs) });
    rows.push({ case: `${sh} forward (train, relu)`, ms: fwdRelu.toFixed(2), 'GB/s': entry.fwdReluGBs.toFixed(2), 'x copy': ratio(entry.fwdReluGBs) });
    rows.push({ case: `${sh} forward (eval)`, ms: fwdEval.toFixed(2), 'GB/s': entry.fwdEvalGBs.toFixed(2), 'x copy': ratio(entry.fwdEvalGBs) });
    rows.push({ case: `${sh} backward (train)`, ms: bwd.toFixed(2), 'GB/s': entry.bwdGBs.toFixed(2), 'x copy': ratio(entry.bwdGBs) });
    for (const t of [x, gy, gamma, beta, rm, rv]) t.dispose();
  }
  rows.push({ case: 'copyBufferToBuffer 16 MiB', ms: '', 'GB/s': copy.toFixed(2), 'x copy': '1.00' });
  printTable(rows, ['case', 'ms', 'GB/s', 'x copy']);
  writeJson('batchnorm', results);
  return results;
}
