// conv2d benchmark: forward, input-gradient and weight-gradient GFLOP/s (2·MACs) for the
// issue's shapes, the engine's matmul at a comparable size in the same run, and the ratio.
// Then batchnorm GB/s from bench/batchnorm.mjs when that file exists.
//   npm run bench -- conv [--variants] [--paths] [--cases default|resnet|quick] [--reps N] [--no-batchnorm]
//   --variants also sweeps the register-block shapes (docs/conv.md's tables).
//   --paths times, per direction, the paths convPath chooses among (the direct kernels, the
//   im2col + matmul lowering, each tiled implicit-GEMM configuration) and the defaults
//   (interleaved rounds, best of each), then what autotuneConv picks for the same shapes.
//   --cases resnet: ResNet-18 small-input layer shapes at batch 128 (for GPUs); quick: small
//   shapes (a lavapipe smoke run of the bench).
//   --lenet-step times a LeNet-5 training step (batch 256) with the conv knobs off
//   ("before") and at their defaults, interleaved, best of 8 steps each.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { lib, g, printTable, writeJson, adapterLine, option } from './common.mjs';

const { ops, tuning, internal } = lib;

const CASES = [
  { name: '3x3 [32,64,32,32]->64 p1', xs: [32, 64, 32, 32], ws: [64, 64, 3, 3], opts: { padding: 1 } },
  { name: '3x3 s2 [32,128,16,16]->256 p1', xs: [32, 128, 16, 16], ws: [256, 128, 3, 3], opts: { stride: 2, padding: 1 } },
  { name: 'dw3x3 [32,96,32,32] p1', xs: [32, 96, 32, 32], ws: [96, 1, 3, 3], opts: { padding: 1, groups: 96 } },
  { name: 'LeNet 5x5 [256,1,28,28]->6', xs: [256, 1, 28, 28], ws: [6, 1, 5, 5], opts: {} },
  { name: 'LeNet 5x5 [256,6,14,14]->16', xs: [256, 6, 14, 14], ws: [16, 6, 5, 5], opts: {} },
];

/** ResNet-18 small-input (CIFAR) layers at batch 128: the stem, each stage's 3×3, strided 3×3 and 1×1 downsample. */
const RESNET_CASES = [
  { name: 'stem 3x3 [128,3,32,32]->64', xs: [128, 3, 32, 32], ws: [64, 3, 3, 3], opts: { padding: 1 } },
  { name: 'L1 3x3 [128,64,32,32]->64', xs: [128, 64, 32, 32], ws: [64, 64, 3, 3], opts: { padding: 1 } },
  { name: 'L2 3x3 s2 [128,64,32,32]->128', xs: [128, 64, 32, 32], ws: [128, 64, 3, 3], opts: { stride: 2, padding: 1 } },
  { name: 'L2 1x1 s2 [128,64,32,32]->128', xs: [128, 64, 32, 32], ws: [128, 64, 1, 1], opts: { stride: 2 } },
  { name: 'L2 3x3 [128,128,16,16]->128', xs: [128, 128, 16, 16], ws: [128, 128, 3, 3], opts: { padding: 1 } },
  { name: 'L3 3x3 [128,256,8,8]->256', xs: [128, 256, 8, 8], ws: [256, 256, 3, 3], opts: { padding: 1 } },
  { name: 'L4 3x3 [128,512,4,4]->512', xs: [128, 512, 4, 4], ws: [512, 512, 3, 3], opts: { padding: 1 } },
];

/** Small shapes for a smoke run on a software adapter. */
const QUICK_CASES = [
  { name: '3x3 [4,32,16,16]->32 p1', xs: [4, 32, 16, 16], ws: [32, 32, 3, 3], opts: { padding: 1 } },
  { name: '3x3 s2 [4,32,16,16]->64 p1', xs: [4, 32, 16, 16], ws: [64, 32, 3, 3], opts: { stride: 2, padding: 1 } },
  { name: 'dw3x3 [4,32,16,16] p1', xs: [4, 32, 16, 16], ws: [32, 1, 3, 3], opts: { padding: 1, groups: 32 } },
  { name: 'LeNet 5x5 [32,6,14,14]->16', xs: [32, 6, 14, 14], ws: [16, 6, 5, 5], opts: {} },
];

let cases = CASES;

function rand(shape, scale = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = ((s >>> 8) / 16777216 - 0.5) * scale;
  }
  return lib.keep(lib.tensor(a, shape));
}

const gflops = (macs, ms) => (2 * macs) / (ms * 1e6);

/**
 * Best (minimum) wall-clock ms of `fn` over `reps` synced runs after one warmup. The
 * minimum, not the median: on a shared 2-core machine other processes only ever add time.
 */
async function timeMs(fn, { reps = 5, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) { lib.scope(fn); await g.sync(); }
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    lib.scope(fn);
    await g.sync();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function convCase(c, reps) {
  const G = internal.conv2dGeometry(c.xs, c.ws, [c.ws[0]], c.opts);
  const macs = G.n * G.cout * G.oh * G.ow * G.cing * G.kh * G.kw;
  const x = rand(c.xs);
  const w = rand(c.ws, 0.1);
  const b = rand([c.ws[0]]);
  const gy = rand([G.n, G.cout, G.oh, G.ow]);
  const opt = { reps, warmup: 1 };
  const fwd = await timeMs(() => internal.conv2dForward(x, w, b, G, 'relu'), opt);
  const dgrad = await timeMs(() => internal.conv2dInputGrad(gy, w, G), opt);
  const wgrad = await timeMs(() => internal.conv2dWeightGrad(gy, x, G), opt);
  const bgrad = await timeMs(() => internal.conv2dBiasGrad(gy, G), opt);
  for (const t of [x, w, b, gy]) t.dispose();
  return { macs, fwd, dgrad, wgrad, bgrad };
}

async function matmulCase(m, k, n, reps) {
  const a = rand([m, k]);
  const bm = rand([k, n]);
  const ms = await timeMs(() => internal.matmulRaw(a, bm), { reps, warmup: 1 });
  a.dispose(); bm.dispose();
  return gflops(m * k * n, ms);
}

export async function run(args = []) {
  const reps = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 5;
  const which = option(args, 'cases', 'default');
  cases = { default: CASES, resnet: RESNET_CASES, quick: QUICK_CASES }[which];
  if (!cases) {
    console.error(`bench conv: --cases must be default, resnet or quick, got '${which}'`);
    process.exit(2);
  }
  console.log(`conv2d benchmark on ${adapterLine()}, cases: ${which}, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  // the engine's matmul at sizes comparable to the 3×3 case (same MACs, both orientations)
  const mmTall = await matmulCase(32768, 576, 64, reps);
  const mmWide = await matmulCase(64, 576, 32768, reps);
  const mm1024 = await matmulCase(1024, 1024, 1024, reps);
  console.log(`matmul GFLOP/s: [32768×576]·[576×64] ${mmTall.toFixed(2)}, [64×576]·[576×32768] ${mmWide.toFixed(2)}, 1024³ ${mm1024.toFixed(2)}`);
  const rows = [];
  const results = [];
  for (const c of cases) {
    const r = await convCase(c, reps);
    results.push({ ...c, ...r });
    const f = (ms) => `${gflops(r.macs, ms).toFixed(2)} (${ms.toFixed(1)} ms)`;
    rows.push({ case: c.name, forward: f(r.fwd), 'input grad': f(r.dgrad), 'weight grad': f(r.wgrad), 'bias grad ms': r.bgrad.toFixed(2) });
  }
  console.log('\nconv2d GFLOP/s (2·MACs, best of the repetitions; forward includes the bias + ReLU epilogue)');
  printTable(rows, ['case', 'forward', 'input grad', 'weight grad', 'bias grad ms']);
  // matmul again after the conv cases: the better of the two runs is the reference
  const mmTall2 = await matmulCase(32768, 576, 64, reps);
  const mmWide2 = await matmulCase(64, 576, 32768, reps);
  const mmBest = Math.max(mmTall, mmWide, mmTall2, mmWide2);
  console.log(`matmul GFLOP/s (again): [32768×576]·[576×64] ${mmTall2.toFixed(2)}, [64×576]·[576×32768] ${mmWide2.toFixed(2)}`);
  const main = results[0];
  const ratio = (ms) => gflops(main.macs, ms) / mmBest;
  console.log(`\n${main.name} vs the engine's matmul at the same size (${mmBest.toFixed(2)} GFLOP/s): ` +
    `forward ${(100 * ratio(main.fwd)).toFixed(0)}%, input grad ${(100 * ratio(main.dgrad)).toFixed(0)}%, weight grad ${(100 * ratio(main.wgrad)).toFixed(0)}% (target >= 70%)`);
  let variants = null;
  if (args.includes('--variants')) variants = await sweep(reps);
  let paths = null;
  if (args.includes('--paths')) paths = await pathsAB(reps, mmBest);
  let lenetStep = null;
  if (args.includes('--lenet-step')) lenetStep = await lenetStepAB();
  writeJson('conv', {
    adapter: adapterLine(),
    caseSet: which,
    loadavg: loadavg(),
    matmul: { tall: Math.max(mmTall, mmTall2), wide: Math.max(mmWide, mmWide2), m1024: mm1024 },
    cases: results.map((r) => ({ name: r.name, macs: r.macs, fwdMs: r.fwd, dgradMs: r.dgrad, wgradMs: r.wgrad, bgradMs: r.bgrad,
      fwd: gflops(r.macs, r.fwd), dgrad: gflops(r.macs, r.dgrad), wgrad: gflops(r.macs, r.wgrad) })),
    variants,
    paths,
    lenetStep,
  });
  // batchnorm lives in another stream's file: report it here when it exists
  if (args.includes('--no-batchnorm')) return;
  if (existsSync(new URL('./batchnorm.mjs', import.meta.url))) {
    try {
      const bn = await import('./batchnorm.mjs');
      console.log('');
      await bn.run(args);
    } catch (e) {
      console.log(`batchnorm benchmark failed: ${e.message}`);
    }
  } else {
    console.log('\n(bench/batchnorm.mjs not present: batchnorm GB/s not measured)');
  }
}

/**
 * Paths per case and direction, interleaved rounds (best of each): 'before' = the kernels as
 * they were before the im2col lowering (every later knob off), 'direct' = the direct kernels,
 * 'im2col' = lowering forced, one column per tiled configuration (forced), 'auto' = the
 * defaults (no tuning table). Then autotuneConv on the same shapes and what it picked.
 */
async function pathsAB(reps, mmBest) {
  const T = tuning.convTuning;
  const saved = { im2col: { ...T.im2col }, dgradAsForward: T.dgradAsForward, fwdBpExtra: [...T.fwdBpExtra], path: { ...T.path } };
  const every = (v) => ({ fwd: v, dgrad: v, wgrad: v });
  const configs = {
    before: () => Object.assign(T, { im2col: every(false), dgradAsForward: false, fwdBpExtra: [], path: every('auto') }),
    direct: () => Object.assign(T, { im2col: every(false), dgradAsForward: saved.dgradAsForward, fwdBpExtra: saved.fwdBpExtra, path: every('direct') }),
    im2col: () => Object.assign(T, { im2col: every(true), dgradAsForward: saved.dgradAsForward, fwdBpExtra: saved.fwdBpExtra, path: every('im2col') }),
    ...Object.fromEntries(Object.keys(tuning.TILE_CONFIGS).map((cfg) => [cfg, () => Object.assign(T, { im2col: { ...saved.im2col }, dgradAsForward: saved.dgradAsForward, fwdBpExtra: saved.fwdBpExtra, path: every(cfg) })])),
    auto: () => Object.assign(T, { im2col: { ...saved.im2col }, dgradAsForward: saved.dgradAsForward, fwdBpExtra: saved.fwdBpExtra, path: { ...saved.path } }),
  };
  tuning.clearConvTuning();
  const out = [];
  const rows = [];
  const geoms = [];
  for (const c of cases) {
    if (c.opts.groups) continue;
    const G = internal.conv2dGeometry(c.xs, c.ws, [c.ws[0]], c.opts);
    geoms.push(G);
    const macs = G.n * G.cout * G.oh * G.ow * G.cing * G.kh * G.kw;
    const x = rand(c.xs), w = rand(c.ws, 0.1), b = rand([c.ws[0]]), gy = rand([G.n, G.cout, G.oh, G.ow]);
    const dirs = {
      fwd: () => internal.conv2dForward(x, w, b, G, 'relu'),
      dgrad: () => internal.conv2dInputGrad(gy, w, G),
      wgrad: () => internal.conv2dWeightGrad(gy, x, G),
    };
    const best = {};
    for (let r = 0; r < Math.max(2, Math.ceil(reps / 2)); r++) {
      for (const [dir, fn] of Object.entries(dirs)) {
        for (const [path, set] of Object.entries(configs)) {
          set();
          // a forced path that cannot run this shape falls back: time only the paths that run it
          if (!['before', 'auto'].includes(path) && tuning.convPath(G, dir) !== path) continue;
          const ms = await timeMs(fn, { reps: 2, warmup: r === 0 ? 1 : 0 });
          const key = `${dir}:${path}`;
          best[key] = Math.min(best[key] ?? Infinity, ms);
        }
      }
    }
    for (const dir of Object.keys(dirs)) {
      const row = { case: c.name, dir };
      const rec = { case: c.name, dir };
      let fastest = null;
      for (const path of Object.keys(configs)) {
        const ms = best[`${dir}:${path}`];
        if (ms === undefined) { row[path] = '-'; continue; }
        row[path] = `${gflops(macs, ms).toFixed(2)} (${ms.toFixed(1)})`;
        rec[path] = gflops(macs, ms);
        rec[`${path}Ms`] = ms;
        if (path !== 'before' && path !== 'auto' && (fastest === null || ms < best[`${dir}:${fastest}`])) fastest = path;
      }
      row.fastest = fastest;
      rec.fastest = fastest;
      row['auto/before'] = (best[`${dir}:before`] / best[`${dir}:auto`]).toFixed(2);
      row['auto % of matmul'] = `${(100 * rec.auto / mmBest).toFixed(0)}%`;
      rows.push(row);
      out.push(rec);
    }
    for (const t of [x, w, b, gy]) t.dispose();
  }
  configs.auto();
  console.log(`\nconv2d paths, GFLOP/s (ms), interleaved rounds, best of each; matmul reference ${mmBest.toFixed(2)} GFLOP/s`);
  console.log(`before: kernels before the im2col lowering; direct: direct kernels; im2col: lowering forced; ${Object.keys(tuning.TILE_CONFIGS).join(', ')}: tiled implicit GEMM forced; auto: defaults without a tuning table`);
  printTable(rows, ['case', 'dir', ...Object.keys(configs), 'fastest', 'auto/before', 'auto % of matmul']);
  // what the autotune picks on the same shapes (every path, the tiled ones included)
  const t0 = performance.now();
  const table = await tuning.autotuneConv({ geoms, paths: lib.tuning.CONV_PATHS, reps: 2 });
  console.log(`\nautotuneConv over these shapes (all paths, ${((performance.now() - t0) / 1000).toFixed(1)} s): ` +
    Object.values(table.shapes).map((e) => `${e.dir} ${e.key} → ${e.winner}`).join('; '));
  const autotune = Object.values(table.shapes).map((e) => ({ dir: e.dir, key: e.key, winner: e.winner, ms: e.ms }));
  tuning.clearConvTuning();
  return { paths: out, autotune };
}

/** LeNet-5 training step at batch 256: conv knobs off ('before') vs defaults, interleaved. */
async function lenetStepAB() {
  const { models, optim, losses, tensor, scope } = lib;
  const T = tuning.convTuning;
  const saved = { im2col: { ...T.im2col }, dgradAsForward: T.dgradAsForward, fwdBpExtra: [...T.fwdBpExtra] };
  const configs = {
    before: () => Object.assign(T, { im2col: { fwd: false, dgrad: false, wgrad: false }, dgradAsForward: false, fwdBpExtra: [] }),
    after: () => Object.assign(T, { im2col: { ...saved.im2col }, dgradAsForward: saved.dgradAsForward, fwdBpExtra: [...saved.fwdBpExtra] }),
  };
  const batch = 256;
  let s = 7;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const x = tensor(Float32Array.from({ length: batch * 784 }, () => next() * 2 - 1), [batch, 1, 28, 28]);
  const y = tensor(Int32Array.from({ length: batch }, () => Math.floor(next() * 10)), [batch], { dtype: 'i32' });
  const model = models.lenet5({ numClasses: 10 }).train();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = () => { opt.zeroGrad(); losses.crossEntropy(model.forward(x), y).backward(); opt.step(); };
  for (const set of Object.values(configs)) { set(); scope(step); await g.sync(); }
  const best = {};
  for (let r = 0; r < 4; r++) {
    for (const [name, set] of Object.entries(configs)) {
      set();
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        scope(step);
        await g.sync();
        best[name] = Math.min(best[name] ?? Infinity, performance.now() - t0);
      }
    }
  }
  configs.after();
  opt.dispose(); model.dispose(); x.dispose(); y.dispose();
  console.log(`\nLeNet-5 training step, batch 256 (best of 8, interleaved): before ${best.before.toFixed(1)} ms (${Math.round(batch * 1000 / best.before)} images/s), ` +
    `after ${best.after.toFixed(1)} ms (${Math.round(batch * 1000 / best.after)} images/s), ${(best.before / best.after).toFixed(2)}×`);
  return { beforeMs: best.before, afterMs: best.after };
}

/** Register-block sweep on the 3×3 case (and the strided one) for docs/conv.md. */
async function sweep(reps) {
  const saved = JSON.parse(JSON.stringify(tuning.convTuning));
  const out = [];
  const shapes = [[8, 8], [8, 4], [4, 8], [4, 4], [16, 8], [16, 2], [8, 2]];
  for (const c of CASES.slice(0, 2)) {
    const G = internal.conv2dGeometry(c.xs, c.ws, [c.ws[0]], c.opts);
    const macs = G.n * G.cout * G.oh * G.ow * G.cing * G.kh * G.kw;
    const x = rand(c.xs), w = rand(c.ws, 0.1), b = rand([c.ws[0]]), gy = rand([G.n, G.cout, G.oh, G.ow]);
    const rows = [];
    for (const [bm, bp] of shapes) {
      Object.assign(tuning.convTuning, { fwd: { bm, bp }, dgrad: { bm, bp }, wgrad: { bm, bp } });
      const opt = { reps: Math.max(3, reps - 2), warmup: 1 };
      const fwd = gflops(macs, await timeMs(() => internal.conv2dForward(x, w, b, G, 'relu'), opt));
      const dgrad = gflops(macs, await timeMs(() => internal.conv2dInputGrad(gy, w, G), opt));
      const wgrad = gflops(macs, await timeMs(() => internal.conv2dWeightGrad(gy, x, G), opt));
      rows.push({ block: `${bm}×${bp}`, forward: fwd.toFixed(2), 'input grad': dgrad.toFixed(2), 'weight grad': wgrad.toFixed(2) });
      out.push({ case: c.name, bm, bp, fwd, dgrad, wgrad });
    }
    console.log(`\nregister blocks (channels × columns per invocation), ${c.name}, GFLOP/s`);
    printTable(rows, ['block', 'forward', 'input grad', 'weight grad']);
    for (const t of [x, w, b, gy]) t.dispose();
  }
  // 1×1 stride 1: matmulRaw versus the implicit-GEMM kernels
  {
    const xs = [32, 64, 32, 32], ws = [64, 64, 1, 1];
    const G = internal.conv2dGeometry(xs, ws, null, {});
    const macs = G.n * G.cout * G.oh * G.ow * G.cin;
    const x = rand(xs), w = rand(ws, 0.1), gy = rand([32, 64, 32, 32]);
    const rows = [];
    for (const mm of [true, false]) {
      tuning.convTuning.matmul1x1 = mm;
      const opt = { reps: Math.max(3, reps - 2), warmup: 1 };
      const fwd = gflops(macs, await timeMs(() => internal.conv2dForward(x, w, null, G, 'none'), opt));
      const dgrad = gflops(macs, await timeMs(() => internal.conv2dInputGrad(gy, w, G), opt));
      rows.push({ path: mm ? 'matmulRaw' : 'conv kernels', forward: fwd.toFixed(2), 'input grad': dgrad.toFixed(2) });
      out.push({ case: '1x1 [32,64,32,32]->64', path: mm ? 'matmul' : 'kernels', fwd, dgrad });
    }
    console.log('\n1×1 [32,64,32,32]→64, GFLOP/s');
    printTable(rows, ['path', 'forward', 'input grad']);
    for (const t of [x, w, gy]) t.dispose();
  }
  Object.assign(tuning.convTuning, saved);
  return out;
}
