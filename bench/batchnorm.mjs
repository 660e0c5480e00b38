// Batch normalization throughput: forward (training, training + ReLU, eval) and backward in
// GB/s of the bytes that must move (forward: read x, write y; backward: read g and x, write dx),
// against the adapter's copy bandwidth measured in the same run. Target on lavapipe: at least
// half the copy bandwidth.
//
// Two copy references: copyBufferToBuffer (on lavapipe a host memcpy) and a compute-shader copy
// (the same pass any kernel makes: on lavapipe 0.25-0.5x of the memcpy). The machine may be
// shared: each repetition times the op and, right after, a 16 MiB copy of each kind, so every
// ratio compares timings taken under the same load. Reported: the best time of each (GB/s),
// their ratio, and the median of the paired ratios.
//   npm run bench -- batchnorm [--quick]
import { lib, g, copyBandwidth, kernelCopy, median, printTable, writeJson, adapterLine } from './common.mjs';

const { ops, tensor, keep } = lib;

function randomTensor(shape, requiresGrad = false) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; data[i] = (s / 4294967296) * 4 - 2; }
  return keep(tensor(data, shape, { requiresGrad }));
}

const COPY_BYTES = 16 * 1024 * 1024;

const INNER = 3;

/**
 * Paired timing, per repetition: `fn(state)` INNER times in one submit (`setup()` untimed makes
 * each state), then INNER 16 MiB buffer copies (copyBufferToBuffer) in one submit, then INNER
 * 16 MiB compute-shader copies; ms per call. Each ratio compares timings of the same moment.
 */
async function paired(fn, { setup = () => null, reps = 15, copyA, copyB }) {
  const op = [];
  const cp = [];
  const sh = [];
  const time = async (encode) => {
    const t0 = performance.now();
    encode();
    await g.sync();
    return (performance.now() - t0) / INNER;
  };
  for (let i = 0; i < reps + 2; i++) {
    const states = Array.from({ length: INNER }, setup);
    await g.sync();
    const tOp = await time(() => lib.scope(() => { for (const st of states) fn(st); }));
    const tCp = await time(() => { for (let k = 0; k < INNER; k++) g.copy(copyA.slice(), copyB.slice(), COPY_BYTES); });
    const tSh = await time(() => { for (let k = 0; k < INNER; k++) kernelCopy(copyA, copyB, COPY_BYTES); });
    for (const st of states) if (st && st.dispose) st.dispose();
    if (i >= 2) { op.push(tOp); cp.push(tCp); sh.push(tSh); }
  }
  const gbs = (t) => (2 * COPY_BYTES) / (t * 1e6);
  return {
    best: Math.min(...op), median: median(op),
    ratioTimes: op.map((t, i) => ({ t, copy: gbs(cp[i]), shader: gbs(sh[i]) })),
    copyBest: Math.max(...cp.map(gbs)), shaderBest: Math.max(...sh.map(gbs)),
  };
}

/** Bytes each pass moves (reads + writes, per-channel blocks ignored) for a tensor of `n` values. */
const PASS_BYTES = {
  batchnorm_stats: 1, batchnorm_normalize: 2, batchnorm_grad_partial: 2, batchnorm_grad_input: 3,
};

/**
 * Per-pass profile: capture the dispatches of one training forward + backward, replay each alone
 * (INNER times per submit), best of `reps`. Shows where the time goes without the op's host work.
 */
async function passProfile(shape, reps) {
  const [, C] = shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const x = randomTensor(shape, true);
  const gy = randomTensor(shape);
  const gamma = keep(tensor(new Float32Array(C).fill(1.1), [C], { requiresGrad: true }));
  const beta = keep(tensor(new Float32Array(C).fill(0.1), [C], { requiresGrad: true }));
  const captured = [];
  const dispatch = g.dispatch.bind(g);
  g.dispatch = (d) => { captured.push(d); dispatch(d); };
  const y = ops.batchNorm2d(x, gamma, beta, null, null, { training: true });
  y.backward(gy); // bindings stay valid: the replays below run before anything is released
  g.dispatch = dispatch;
  const rows = [];
  for (const d of captured.filter((c) => c.label && c.label.startsWith('batchnorm_'))) {
    for (let i = 0; i < 2; i++) { for (let k = 0; k < INNER; k++) g.dispatch(d); await g.sync(); }
    let best = Infinity;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      for (let k = 0; k < INNER; k++) g.dispatch(d);
      await g.sync();
      best = Math.min(best, (performance.now() - t0) / INNER);
    }
    const bytes = (PASS_BYTES[d.label.replace(/\(.*\)$/, '')] ?? 0) * 4 * n; // label: pass(width)
    rows.push({ pass: `${JSON.stringify(shape)} ${d.label.replace('batchnorm_', '')}`, 'best ms': best.toFixed(2), 'GB/s': bytes ? (bytes / (best * 1e6)).toFixed(2) : '' });
  }
  for (const t of [x, gy, gamma, beta, y]) t.dispose();
  return rows;
}

export async function run(args = []) {
  const reps = args.includes('--quick') ? 5 : 15;
  console.log(`adapter: ${adapterLine()}`);
  const copyCommon = await copyBandwidth();
  const copyA = keep(lib.empty([COPY_BYTES / 4]));
  const copyB = keep(lib.empty([COPY_BYTES / 4]));
  const shapes = [[32, 64, 32, 32], [256, 6, 28, 28]];
  const rows = [];
  const results = { copyBandwidthGBs: copyCommon, cases: [] };
  let copyBest = 0;
  for (const shape of shapes) {
    const [, C] = shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomTensor(shape, true);
    const gy = randomTensor(shape);
    const gamma = keep(tensor(Float32Array.from({ length: C }, (_, i) => 1 + 0.01 * i), [C], { requiresGrad: true }));
    const beta = keep(tensor(new Float32Array(C).fill(0.1), [C], { requiresGrad: true }));
    const rm = keep(tensor(new Float32Array(C), [C]));
    const rv = keep(tensor(new Float32Array(C).fill(1), [C]));
    const bn = (opts) => () => lib.noGrad(() => ops.batchNorm2d(x, gamma, beta, rm, rv, opts));
    const xc = keep(lib.empty(shape));
    const fwdBytes = 2 * 4 * n;
    const bwdBytes = 3 * 4 * n;
    const cases = [
      ['vec4 copy kernel (reference)', fwdBytes, await paired(() => kernelCopy(x, xc, 4 * n), { reps, copyA, copyB })],
      ['forward (train)', fwdBytes, await paired(bn({ training: true }), { reps, copyA, copyB })],
      ['forward (train, relu)', fwdBytes, await paired(bn({ training: true, act: 'relu' }), { reps, copyA, copyB })],
      ['forward (eval)', fwdBytes, await paired(bn({ training: false }), { reps, copyA, copyB })],
      ['backward (train)', bwdBytes, await paired((y) => {
        y.backward(gy);
        for (const t of [x, gamma, beta]) { t.grad.dispose(); t.grad = null; }
      }, {
        setup: () => keep(ops.batchNorm2d(x, gamma, beta, rm, rv, { training: true })),
        reps, copyA, copyB,
      })],
    ];
    for (const [name, bytes, r] of cases) {
      const gbs = bytes / (r.best * 1e6);
      const ratio = median(r.ratioTimes.map(({ t, copy }) => bytes / (t * 1e6) / copy));
      const ratioSh = median(r.ratioTimes.map(({ t, shader }) => bytes / (t * 1e6) / shader));
      copyBest = Math.max(copyBest, r.copyBest);
      results.cases.push({ shape, name, bytes, bestMs: r.best, medianMs: r.median, GBs: gbs, pairedRatioMedian: ratio, copyBestGBs: r.copyBest, shaderCopyBestGBs: r.shaderBest, pairedShaderRatioMedian: ratioSh });
      rows.push({
        case: `${JSON.stringify(shape)} ${name}`, 'best ms': r.best.toFixed(2), 'median ms': r.median.toFixed(2), 'GB/s': gbs.toFixed(2),
        'copy GB/s': r.copyBest.toFixed(1), 'best/best': (gbs / r.copyBest).toFixed(2), 'paired median': ratio.toFixed(2),
        'shader copy GB/s': r.shaderBest.toFixed(1), 'vs shader: best/best': (gbs / r.shaderBest).toFixed(2), 'vs shader: paired median': ratioSh.toFixed(2),
      });
    }
    for (const t of [x, xc, gy, gamma, beta, rm, rv]) t.dispose();
  }
  copyA.dispose();
  copyB.dispose();
  results.copyPairedBestGBs = copyBest;
  rows.push({ case: 'copyBandwidth() (common.mjs, median)', 'GB/s': copyCommon.toFixed(2) });
  printTable(rows, ['case', 'best ms', 'median ms', 'GB/s', 'copy GB/s', 'best/best', 'paired median', 'shader copy GB/s', 'vs shader: best/best', 'vs shader: paired median']);
  console.log('GB/s: bytes that must move / best time; copy GB/s: best 16 MiB copyBufferToBuffer of the same repetitions;');
  console.log('best/best: their ratio; paired median: median over repetitions of (op GB/s / copy GB/s of the same repetition);');
  console.log('shader copy: the same with a 16 MiB compute-shader copy (bench/common.mjs kernelCopy) timed in each repetition.');
  console.log('\nper pass (replayed alone, best of the repetitions; GB/s of the bytes the pass itself moves):');
  const passRows = [];
  for (const shape of shapes) passRows.push(...(await passProfile(shape, 2 * reps)));
  printTable(passRows, ['pass', 'best ms', 'GB/s']);
  results.passes = passRows;
  writeJson('batchnorm', results);
  return results;
}
