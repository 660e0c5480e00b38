// Memory of careless training loops (issue 12 item 7; docs/architecture.md "Lifetimes for careless
// code"): LeNet-5 steps at batch 64 in one of four modes, GPU memory (gpu().memory()) and process
// RSS sampled every `every` steps, one JSON line per sample and a summary line. GPU bytes in use are
// also taken after every step (before its await, so the highs between two collections show): the
// summary's gpuInUseMB is their min/max after warm-up (step 1000, or a fifth of the run).
// Stops early (and says so) once RSS or GPU bytes in use pass MAX_MB (env, default 6000): mode d
// grows without bound, and the final sync touches every queued buffer.
//   node bench/careless.mjs MODE [STEPS=5000] [EVERY=500]
//   MODE  a: scope() per step, `await gpu().sync()` every 50 steps (the correct loop)
//         b: no scope(), no dispose(), `await gpu().sync()` every 50 steps
//         c: scope() per step, no await at all (one synchronous loop)
//         d: neither scope() nor any await
// Env FOCUSNET_DIST picks the build (default dist/).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';

const dist = resolve(process.env.FOCUSNET_DIST ?? new URL('../dist', import.meta.url).pathname);
const lib = await import(pathToFileURL(`${dist}/index.js`).href);
const { init, tensor, losses, models, optim, scope, gpu, shutdown } = lib;

const [mode = 'a', stepsArg = '5000', everyArg = '500'] = process.argv.slice(2);
if (!['a', 'b', 'c', 'd'].includes(mode)) throw new Error(`mode must be a, b, c or d, got ${mode}`);
const steps = Number(stepsArg);
const every = Number(everyArg);
const withScope = mode === 'a' || mode === 'c';
const withAwait = mode === 'a' || mode === 'b';

await init();
const warnings = [];
gpu().onWarning = (m) => warnings.push({ step: current, message: m });
const model = models.lenet5({ numClasses: 10, seed: 1 });
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const B = 64;
const x = tensor(Float32Array.from({ length: B * 784 }, (_, i) => Math.sin(i)), [B, 1, 28, 28]);
const y = tensor(Int32Array.from({ length: B }, (_, i) => i % 10), [B], { dtype: 'i32' });
const step = () => {
  opt.zeroGrad();
  const loss = losses.crossEntropy(model.forward(x), y);
  loss.backward();
  opt.step();
};
const MB = (b) => Math.round((b / 2 ** 20) * 10) / 10;
const t0 = performance.now();
let current = 0;
const samples = [];
const warmFrom = Math.min(1000, steps / 5);
const maxMB = Number(process.env.MAX_MB ?? 6000);
let inUseMin = Infinity;
let inUseMax = 0;
let stoppedAt = null;
const sample = (i) => {
  const m = gpu().memory();
  const p = process.memoryUsage();
  const s = {
    step: i, gpuInUseMB: MB(m.bytesInUse), gpuAllocatedMB: MB(m.bytesAllocated), buffers: m.buffersInUse,
    rssMB: MB(p.rss), heapMB: MB(p.heapUsed), externalMB: MB(p.external), inFlight: gpu().inFlight,
    submits: gpu().counters.submits, bindGroups: gpu().counters.bindGroups, seconds: Math.round(performance.now() - t0) / 1000,
  };
  samples.push(s);
  console.log(JSON.stringify(s));
};
sample(0);
let engineError;
for (let i = 1; i <= steps; i++) {
  current = i;
  try {
    if (withScope) scope(step);
    else step();
  } catch (e) {
    // the engine refuses a loop that piles up GPU objects the event loop never got to free
    engineError = `step ${i}: ${e.message}`;
    stoppedAt = i;
    break;
  }
  if (i >= warmFrom) {
    const u = gpu().memory().bytesInUse;
    inUseMin = Math.min(inUseMin, u);
    inUseMax = Math.max(inUseMax, u);
  }
  if (withAwait && i % 50 === 0) await gpu().sync();
  if (i % every === 0) {
    sample(i);
    if (Math.max(samples.at(-1).rssMB, samples.at(-1).gpuInUseMB) > maxMB) {
      stoppedAt = i;
      break;
    }
  }
}
const loopSeconds = (performance.now() - t0) / 1000;
await gpu().sync();
const after = gpu().memory();
const warm = samples.filter((s) => s.step >= warmFrom);
const range = (k) => [Math.min(...warm.map((s) => s[k])), Math.max(...warm.map((s) => s[k]))];
console.log(JSON.stringify({
  mode, steps: stoppedAt ?? steps, stoppedAt: engineError ?? (stoppedAt ? `RSS or GPU memory passed ${maxMB} MB` : undefined), every, loopSeconds: Math.round(loopSeconds * 10) / 10, load: loadavg().map((v) => Math.round(v * 100) / 100),
  afterWarmup: { fromStep: warmFrom, gpuInUseMB: [MB(inUseMin), MB(inUseMax)], gpuAllocatedMB: range('gpuAllocatedMB'), rssMB: range('rssMB') },
  collections: lib.internal.looseStats?.().collections,
  afterSync: { gpuInUseMB: MB(after.bytesInUse), rssMB: MB(process.memoryUsage().rss) },
  warnings,
}));
await shutdown();
