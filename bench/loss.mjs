// Fused vs composed losses, forward + backward: `npm run bench -- loss [--json] [--quick]`.
// For each (B, N): median ms of a full forward + backward of losses.focusPicking with
// impl 'fused' and 'composed', their ratio, and the fused kernel alone (forward dispatch that
// also writes dL/dz, plus the batch-mean reduction) as effective GB/s over the bytes it must
// move (read z, zb, labels; write dL/dz), against the adapter's measured copy bandwidth.
// Also cross-entropy and distillation, fused vs composed, at (1024, 1000).
import { lib, g, median, copyBandwidth, printTable, writeJson, adapterLine } from './common.mjs';

const { losses, tensor } = lib;

function rand(n, seed, scale = 3) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

/**
 * Like common.mjs timeMs (median wall ms of a synced batch, after warmup), plus the median
 * process CPU ms (all threads: lavapipe's workers included), which is what the work costs
 * when other processes compete for the cores.
 */
async function timeMs(fn, { warmup = 2, reps = 7, inner = 1 } = {}) {
  for (let i = 0; i < warmup; i++) { lib.scope(() => { for (let j = 0; j < inner; j++) fn(); }); await g.sync(); }
  const wall = [];
  const cpu = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    lib.scope(() => { for (let j = 0; j < inner; j++) fn(); });
    await g.sync();
    wall.push((performance.now() - t0) / inner);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / inner);
  }
  const w = median(wall);
  lastCpu = median(cpu);
  return w;
}
let lastCpu = 0;

function setup(B, N) {
  const z = lib.keep(tensor(rand(B * N, 1), [B, N], { requiresGrad: true }));
  const zb = lib.keep(tensor(rand(B * N, 2), [B, N]));
  const labels = lib.keep(tensor(Int32Array.from({ length: B }, (_, i) => (i * 7919) % N), [B], { dtype: 'i32' }));
  return { z, zb, labels, dispose: () => { z.dispose(); zb.dispose(); labels.dispose(); } };
}

function fwdBwd(loss, z) {
  return () => {
    loss().backward();
    z.grad.dispose();
    z.grad = null;
  };
}

export async function run(args) {
  const quick = args.includes('--quick');
  const json = args.includes('--json');
  const shapes = quick ? [[256, 10], [1024, 1000]] : [[256, 10], [256, 100], [256, 1000], [1024, 1000], [4096, 1000]];
  console.log(`loss benchmark on ${adapterLine()}`);
  const bw = await copyBandwidth();
  console.log(`copy bandwidth: ${bw.toFixed(2)} GB/s (read + written bytes per second)`);
  const load = (await import('node:os')).loadavg()[0];
  console.log(`load average (1 min): ${load.toFixed(2)} on ${(await import('node:os')).cpus().length} cores${load > 1.5 ? ' (other processes compete: wall times are inflated)' : ''}`);
  const rows = [];
  for (const [B, N] of shapes) {
    const t = setup(B, N);
    const reps = B * N >= 1e6 ? 5 : 9;
    const fused = await timeMs(fwdBwd(() => losses.focusPicking(t.z, t.zb, t.labels, { impl: 'fused' }), t.z), { reps });
    const fusedCpu = lastCpu;
    const composed = await timeMs(fwdBwd(() => losses.focusPicking(t.z, t.zb, t.labels, { impl: 'composed' }), t.z), { reps });
    const composedCpu = lastCpu;
    // the fused kernel alone (z requires grad, so it writes dL/dz), with its reduction
    const kernel = await timeMs(() => losses.focusPicking(t.z, t.zb, t.labels, { impl: 'fused' }), { reps, inner: 2 });
    const kernelCpu = lastCpu;
    const bytes = (3 * B * N + B) * 4;
    const gbs = bytes / (kernel * 1e6);
    const copyMs = bytes / (bw * 1e6);
    rows.push({
      loss: 'focusPicking', B, N,
      'fused ms': fused.toFixed(3), 'composed ms': composed.toFixed(3), speedup: (composed / fused).toFixed(1),
      'kernel ms': kernel.toFixed(3), 'GB/s': gbs.toFixed(2), 'copy ms': copyMs.toFixed(3), 'kernel/copy': (kernel / copyMs).toFixed(2),
      'fused cpu': fusedCpu.toFixed(2), 'composed cpu': composedCpu.toFixed(2), 'cpu speedup': (composedCpu / fusedCpu).toFixed(1), 'kernel cpu': kernelCpu.toFixed(2),
    });
    t.dispose();
  }
  {
    const [B, N] = [1024, 1000];
    const t = setup(B, N);
    for (const [name, fn] of [
      ['crossEntropy', (impl) => losses.crossEntropy(t.z, t.labels, { impl, labelSmoothing: 0.1 })],
      ['distillation', (impl) => losses.distillation(t.z, t.zb, t.labels, { impl })],
    ]) {
      const fused = await timeMs(fwdBwd(() => fn('fused'), t.z), { reps: 5 });
      const fusedCpu = lastCpu;
      const composed = await timeMs(fwdBwd(() => fn('composed'), t.z), { reps: 5 });
      const composedCpu = lastCpu;
      const kernel = await timeMs(() => fn('fused'), { reps: 5, inner: 2 });
      const kernelCpu = lastCpu;
      const bytes = ((name === 'crossEntropy' ? 2 : 3) * B * N + (name === 'crossEntropy' ? B : 0)) * 4;
      const copyMs = bytes / (bw * 1e6);
      rows.push({
        loss: name, B, N,
        'fused ms': fused.toFixed(3), 'composed ms': composed.toFixed(3), speedup: (composed / fused).toFixed(1),
        'kernel ms': kernel.toFixed(3), 'GB/s': (bytes / (kernel * 1e6)).toFixed(2), 'copy ms': copyMs.toFixed(3), 'kernel/copy': (kernel / copyMs).toFixed(2),
        'fused cpu': fusedCpu.toFixed(2), 'composed cpu': composedCpu.toFixed(2), 'cpu speedup': (composedCpu / fusedCpu).toFixed(1), 'kernel cpu': kernelCpu.toFixed(2),
      });
    }
    t.dispose();
  }
  printTable(rows, ['loss', 'B', 'N', 'fused ms', 'composed ms', 'speedup', 'kernel ms', 'GB/s', 'copy ms', 'kernel/copy']);
  console.log('fused/composed ms: forward + backward (median wall); kernel ms: fused forward (writes dL/dz) + mean;');
  console.log('copy ms: the kernel\'s bytes (read z, zb, labels; write dL/dz; CE reads no zb) at the measured copy bandwidth\n');
  printTable(rows, ['loss', 'B', 'N', 'fused cpu', 'composed cpu', 'cpu speedup', 'kernel cpu']);
  console.log('cpu: median process CPU ms per step (all threads), robust when other processes share the cores');
  if (json) writeJson('loss', { copyBandwidthGBs: bw, loadAverage: load, rows });
  void g;
}
