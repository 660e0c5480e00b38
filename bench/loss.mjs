// Fused vs composed losses, forward + backward: `npm run bench -- loss [--json] [--quick]`.
// For each (B, N): median (and min) ms of a full forward + backward of losses.focusPicking
// with impl 'fused' and 'composed', their ratio, and the fused kernel alone (the forward
// dispatch that also writes dL/dz, plus the batch-mean reduction) as effective GB/s over the
// bytes it must move (read z, zb, labels; write dL/dz), against the adapter's measured copy
// bandwidth (copyBandwidth in common.mjs). Also crossEntropy and distillation at (1024, 1000).
// The variants of one shape are timed round-robin, so load from other processes hits them
// alike; process CPU ms (all threads) is reported too, as it barely moves with such load.
import os from 'node:os';
import { lib, g, median, rand, timeOnce, copyBandwidth, kernelCopy, printTable, writeJson, adapterLine } from './common.mjs';

const { losses, tensor } = lib;

function setup(B, N) {
  const z = lib.keep(tensor(rand(B * N, 1), [B, N], { requiresGrad: true }));
  const zb = lib.keep(tensor(rand(B * N, 2), [B, N]));
  const labels = lib.keep(tensor(Int32Array.from({ length: B }, (_, i) => (i * 7919) % N), [B], { dtype: 'i32' }));
  return { z, zb, labels, dispose: () => { z.dispose(); zb.dispose(); labels.dispose(); } };
}

/** forward + backward of a loss of z, freeing the gradient */
function fwdBwd(loss, z) {
  return () => {
    loss().backward();
    z.grad.dispose();
    z.grad = null;
  };
}

/** Time named steps round-robin (each: scope + sync), after warmup: median/min wall ms, median CPU ms. */
async function race(steps, reps) {
  const names = Object.keys(steps);
  const wall = Object.fromEntries(names.map((k) => [k, []]));
  const cpu = Object.fromEntries(names.map((k) => [k, []]));
  for (let w = 0; w < 2; w++) for (const k of names) { lib.scope(steps[k]); await g.sync(); }
  for (let i = 0; i < reps; i++) {
    for (const k of names) {
      const t = await timeOnce(steps[k]);
      wall[k].push(t.wall);
      cpu[k].push(t.cpu);
    }
  }
  return Object.fromEntries(names.map((k) => [k, { ms: median(wall[k]), min: Math.min(...wall[k]), cpu: median(cpu[k]) }]));
}

/** A table / JSON row: each timing as its median ('ms', unprefixed ratios) and its minimum ('min'). */
function row(loss, B, N, r, bytes, bw) {
  const copyMs = bytes / (bw * 1e6);
  const o = { loss, B, N, 'copy ms': copyMs.toFixed(3), 'shader copy ms': r.copyShader ? r.copyShader.ms.toFixed(3) : '' };
  for (const [s, pre] of [['ms', ''], ['min', 'min ']]) {
    const k = r.kernel[s];
    Object.assign(o, {
      [`fused ${s}`]: r.fused[s].toFixed(3), [`composed ${s}`]: r.composed[s].toFixed(3), [`${pre}speedup`]: (r.composed[s] / r.fused[s]).toFixed(1),
      [`kernel ${s}`]: k.toFixed(3), [`${pre}GB/s`]: (bytes / (k * 1e6)).toFixed(2), [`${pre}kernel/copy`]: (k / copyMs).toFixed(2),
      [`${pre}kernel/shader copy`]: r.copyShader ? (k / r.copyShader[s]).toFixed(2) : '',
    });
  }
  return {
    ...o,
    'same-bytes copy min': r.copyKernel ? r.copyKernel.min.toFixed(3) : '', 'kernel/same-bytes copy (min)': r.copyKernel ? (r.kernel.min / r.copyKernel.min).toFixed(2) : '',
    'fused cpu': r.fused.cpu.toFixed(2), 'composed cpu': r.composed.cpu.toFixed(2), 'cpu speedup': (r.composed.cpu / r.fused.cpu).toFixed(1),
    'kernel cpu': r.kernel.cpu.toFixed(2),
  };
}

export async function run(args) {
  const quick = args.includes('--quick');
  const json = args.includes('--json');
  const shapes = quick ? [[256, 10], [1024, 1000]] : [[256, 10], [256, 100], [256, 1000], [1024, 1000], [4096, 1000]];
  console.log(`loss benchmark on ${adapterLine()}`);
  const load0 = os.loadavg()[0];
  const bw = Math.max(await copyBandwidth(), await copyBandwidth());
  console.log(`copy bandwidth: ${bw.toFixed(2)} GB/s (read + written bytes per second; best of two measurements)`);
  const rows = [];
  for (const [B, N] of shapes) {
    const t = setup(B, N);
    const fused = (impl) => fwdBwd(() => losses.focusPicking(t.z, t.zb, t.labels, { impl }), t.z);
    // copies moving the kernel's bytes (half read, half written), timed in the same round-robin
    // (the copy time under the same load): copyBufferToBuffer (ops.copy) and a compute-shader copy
    const halfLen = Math.ceil((3 * B * N + B) / 8) * 4;
    const half = lib.keep(tensor(rand(halfLen, 3), [halfLen]));
    const half2 = lib.keep(lib.empty([halfLen]));
    const r = await race({
      copyKernel: () => { lib.ops.copy(half); },
      copyShader: () => { kernelCopy(half, half2, halfLen * 4); },
      fused: fused('fused'),
      composed: fused('composed'),
      // the fused kernel alone (z requires grad, so it writes dL/dz), with its reduction
      kernel: () => { losses.focusPicking(t.z, t.zb, t.labels, { impl: 'fused' }); },
    }, B * N >= 4e6 ? 7 : B * N >= 1e6 ? 11 : 21);
    rows.push(row('focusPicking', B, N, r, (3 * B * N + B) * 4, bw));
    half.dispose();
    half2.dispose();
    t.dispose();
  }
  {
    const [B, N] = [1024, 1000];
    const t = setup(B, N);
    const ce = (impl) => () => losses.crossEntropy(t.z, t.labels, { impl, labelSmoothing: 0.1 });
    const kd = (impl) => () => losses.distillation(t.z, t.zb, t.labels, { impl });
    for (const [name, fn, bytes] of [['crossEntropy', ce, (2 * B * N + B) * 4], ['distillation', kd, 3 * B * N * 4]]) {
      const r = await race({ fused: fwdBwd(fn('fused'), t.z), composed: fwdBwd(fn('composed'), t.z), kernel: () => { fn('fused')(); } }, 11);
      rows.push(row(name, B, N, r, bytes, bw));
    }
    t.dispose();
  }
  const load = (load0 + os.loadavg()[0]) / 2;
  printTable(rows, ['loss', 'B', 'N', 'fused ms', 'composed ms', 'speedup', 'kernel ms', 'GB/s', 'copy ms', 'kernel/copy', 'shader copy ms', 'kernel/shader copy']);
  console.log('medians of wall time. fused/composed: forward + backward; kernel: the fused forward (writes dL/dz) + mean;');
  console.log('copy ms: the kernel\'s bytes (read logits, zb, labels; write dL/dz) at the measured copyBufferToBuffer bandwidth;');
  console.log('shader copy ms: a compute-shader copy of the same bytes (vec4, bench/common.mjs), timed alongside\n');
  printTable(rows, ['loss', 'B', 'N', 'fused min', 'composed min', 'min speedup', 'kernel min', 'min GB/s', 'min kernel/copy', 'same-bytes copy min', 'kernel/same-bytes copy (min)', 'min kernel/shader copy', 'fused cpu', 'composed cpu', 'cpu speedup', 'kernel cpu']);
  console.log('min: fastest repetition (wall); same-bytes copy: copyBufferToBuffer of the kernel\'s bytes, timed alongside;');
  console.log('cpu: median process CPU ms per step, all threads');
  console.log(`load average (1 min): ${load.toFixed(2)} on ${os.cpus().length} cores${load > 1.5 ? ' (other processes compete for the cores: medians are inflated, min and cpu less so)' : ''}`);
  if (json) writeJson('loss', { copyBandwidthGBs: bw, loadAverage: load, rows });
}
