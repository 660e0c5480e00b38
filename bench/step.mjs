// Training-step benchmark: forward + backward + SGD update (momentum 0.9, weight decay
// 5e-4) on a fixed random batch, inside one scope, no readback in the step.
//   npm run bench -- step [--quick] [--only NAME] [--batches 128,256] [--autotune] [--precision f32|mixed] [--out NAME]
//   --batches: run every model at these batch sizes instead of the default list;
//   --autotune: before timing a model, tune.autotuneConv on the convolutions of one of its
//   steps (tuning.convShapesOf) and tuning.autotuneMatmul, and print what the conv autotune picked;
//   --precision mixed: the step of `train --precision mixed` (forward under amp.autocast, the loss
//   scaled by an amp.GradScaler, its step and update); needs 'shader-f16';
//   --out: the JSON's name under bench/out/ (default step).
// Prints ms/step and images/s per model, then the share of GPU time per op family in one
// step, measured with timestamp queries (each dispatch timed in its own pass; the sum of
// dispatch times is printed next to the wall-clock step so the profiling overhead shows).
import { availableParallelism, loadavg } from 'node:os';
import { lib, g, median, timeOnce, option, printTable, writeJson, adapterLine } from './common.mjs';

const { models, optim, losses, tensor, scope, amp } = lib;

const CONFIGS = [
  { name: 'lenet5', batch: 64, input: [1, 28, 28], make: () => models.lenet5({ numClasses: 10 }) },
  { name: 'lenet5', batch: 256, input: [1, 28, 28], make: () => models.lenet5({ numClasses: 10 }) },
  { name: 'resnet18-small', batch: 32, input: [3, 32, 32], make: () => models.resnet18({ numClasses: 10, smallInput: true }) },
  { name: 'mobilenetv2x0.5-small', batch: 32, input: [3, 32, 32], make: () => models.mobilenetV2({ numClasses: 10, widthMult: 0.5, smallInput: true }) },
];

/** Op family of a kernel label. */
export function family(label) {
  const l = label.toLowerCase();
  if (l.includes('sgd')) return 'sgd update';
  if (l.startsWith('cast(')) return 'cast f32↔f16';
  if (l.startsWith('amp_')) return 'loss scaling';
  if (l.includes('conv') && (l.includes('wgrad') || l.includes('weight'))) return 'conv weight-grad';
  if (l.includes('conv') && (l.includes('dgrad') || l.includes('input'))) return 'conv input-grad';
  if (l.includes('conv') && l.includes('bias')) return 'conv bias-grad';
  if (l.includes('conv')) return 'conv forward';
  if (l.includes('batchnorm') || l.startsWith('bn')) return l.includes('grad') || l.includes('backward') ? 'batchnorm backward' : 'batchnorm forward';
  if (l.includes('pool')) return 'pooling';
  if (l.includes('matmul') || l.includes('linear')) return 'matmul/linear';
  if (l.includes('softmax') || l.includes('gather') || l.includes('entropy') || l.includes('ce') || l.includes('loss')) return 'loss';
  if (l.includes('fill')) return 'fill (zero grad)';
  if (l.includes('reduce') || l.includes('sum')) return 'reduce';
  return 'elementwise';
}

function randomBatch(batch, input, seed) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const n = batch * input.reduce((a, b) => a * b, 1);
  const x = tensor(Float32Array.from({ length: n }, () => next() * 2 - 1), [batch, ...input]);
  const y = tensor(Int32Array.from({ length: batch }, () => Math.floor(next() * 10)), [batch], { dtype: 'i32' });
  return { x, y };
}

/**
 * Median wall-clock and process CPU ms of one synced step. Lavapipe runs its worker
 * threads inside this process, so CPU time / cores estimates the step on an idle machine
 * (the machine is shared: the load average is printed with the results).
 */
async function timeStep(step, reps) {
  scope(step);
  await g.sync();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < reps; i++) {
    const t = await timeOnce(step);
    wall.push(t.wall);
    cpu.push(t.cpu);
  }
  return { ms: median(wall), cpuMs: median(cpu) };
}

export async function run(args = []) {
  const quick = args.includes('--quick');
  const only = option(args, 'only', null);
  console.log(`adapter: ${adapterLine()}`);
  const cores = availableParallelism();
  console.log(`cores: ${cores}, load average at start: ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  const rows = [];
  const profiles = {};
  const tuned = {};
  const batches = option(args, 'batches', null);
  const autotune = args.includes('--autotune');
  const precision = option(args, 'precision', 'f32');
  if (precision !== 'f32' && precision !== 'mixed') throw new Error(`--precision ${precision}: expected f32 or mixed`);
  if (precision === 'mixed' && !amp.isAvailable()) throw new Error("--precision mixed: this adapter has no 'shader-f16'");
  console.log(`precision: ${precision}`);
  const configs = batches
    ? CONFIGS.filter((c, i) => CONFIGS.findIndex((d) => d.name === c.name) === i).flatMap((c) => batches.split(',').map((b) => ({ ...c, batch: Number(b) })))
    : CONFIGS;
  if (autotune) {
    const mm = await lib.tuning.autotuneMatmul();
    console.log(`autotuneMatmul: ${Object.entries(mm.buckets).map(([b, e]) => `${b} → ${e.winner}`).join(', ')}`);
  }
  for (const c of configs) {
    if (only && c.name !== only) continue;
    const key = `${c.name} b${c.batch}`;
    const model = c.make().train();
    const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    const { x, y } = randomBatch(c.batch, c.input, 7);
    const scaler = precision === 'mixed' ? new amp.GradScaler() : null;
    const step = scaler
      ? () => {
        opt.zeroGrad();
        const loss = amp.autocast(() => losses.crossEntropy(model.forward(x), y));
        scaler.scale(loss).backward();
        scaler.step(opt);
        scaler.update();
      }
      : () => {
        opt.zeroGrad();
        const loss = losses.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
      };
    if (autotune) {
      // tune the convolutions of exactly this step (the tiled paths included on every adapter)
      const geoms = await lib.tuning.convShapesOf(() => scope(step));
      await g.sync();
      const t0 = performance.now();
      const t = await lib.tuning.autotuneConv({ geoms, paths: lib.tuning.CONV_PATHS, reps: 3 });
      const picks = {};
      for (const e of Object.values(t.shapes)) picks[e.winner] = (picks[e.winner] ?? 0) + 1;
      tuned[key] = { seconds: (performance.now() - t0) / 1000, picks, shapes: Object.values(t.shapes).map((e) => ({ dir: e.dir, key: e.key, winner: e.winner, ms: e.ms })) };
      console.log(`  ${key}: autotuneConv over ${geoms.length} shapes in ${tuned[key].seconds.toFixed(1)} s: ${Object.entries(picks).map(([p, n]) => `${p} ×${n}`).join(', ')}`);
    }
    const d0 = g.counters.dispatches;
    scope(step);
    await g.sync();
    const dispatches = g.counters.dispatches - d0;
    const { ms, cpuMs } = await timeStep(step, quick ? 3 : 5);
    // one profiled step
    let gpuMs = null;
    if (g.startProfile && g.startProfile()) {
      scope(step);
      await g.sync();
      const times = await g.stopProfile();
      const fam = {};
      let total = 0;
      for (const t of times) {
        fam[family(t.label)] = (fam[family(t.label)] ?? 0) + t.ms;
        total += t.ms;
      }
      gpuMs = total;
      profiles[key] = { totalMs: total, families: fam, kernels: aggregate(times) };
    }
    console.log(`  ${key}: ${ms.toFixed(1)} ms/step, ${Math.round((c.batch * 1000) / ms)} images/s, CPU ${cpuMs.toFixed(0)} ms/step, ${dispatches} dispatches`);
    rows.push({
      model: c.name, precision, batch: c.batch, input: c.input.join('×'), params: model.numParameters(),
      'ms/step': ms.toFixed(1), 'images/s': Math.round((c.batch * 1000) / ms), dispatches,
      'CPU ms/step': cpuMs.toFixed(0), 'images/s (CPU/cores)': Math.round((c.batch * 1000 * cores) / cpuMs),
      'profiled GPU ms': gpuMs === null ? '-' : gpuMs.toFixed(1),
    });
    scaler?.dispose();
    opt.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  }
  console.log('\ntraining step (forward + backward + SGD update)');
  console.log(`load average at end: ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  printTable(rows, ['model', 'precision', 'batch', 'input', 'params', 'ms/step', 'images/s', 'CPU ms/step', 'images/s (CPU/cores)', 'dispatches', 'profiled GPU ms']);
  for (const [key, p] of Object.entries(profiles)) {
    console.log(`\n${key}: share of GPU time per op family (timestamp queries, ${p.totalMs.toFixed(1)} ms in dispatches)`);
    const fr = Object.entries(p.families).sort((a, b) => b[1] - a[1]).map(([f, t]) => ({ family: f, ms: t.toFixed(2), share: `${((100 * t) / p.totalMs).toFixed(1)}%` }));
    printTable(fr, ['family', 'ms', 'share']);
  }
  writeJson(option(args, 'out', 'step'), { precision, rows, profiles, autotune: autotune ? tuned : null, loadavg: loadavg() });
}

function aggregate(times) {
  const m = {};
  for (const t of times) {
    const e = (m[t.label] ??= { count: 0, ms: 0 });
    e.count++;
    e.ms += t.ms;
  }
  return m;
}
