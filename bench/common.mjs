// Shared benchmark helpers: the library, GPU timing by wall clock around a synced
// batch of repetitions (and wall + CPU time of one step), medians, random inputs, copy bandwidth of the adapter, table and JSON output.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as lib from '../dist/index.js';

export { lib };
export const g = await lib.init();

/** Median wall-clock ms of `fn` (which encodes GPU work), synced, after warmup. */
export async function timeMs(fn, { warmup = 2, reps = 7, inner = 1 } = {}) {
  for (let i = 0; i < warmup; i++) { lib.scope(() => { for (let j = 0; j < inner; j++) fn(); }); await g.sync(); }
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    lib.scope(() => { for (let j = 0; j < inner; j++) fn(); });
    await g.sync();
    times.push((performance.now() - t0) / inner);
  }
  return median(times);
}

/**
 * Wall-clock and process CPU ms (all threads: lavapipe's workers run in this process) of one
 * synced step: `fn` (which encodes GPU work) inside a scope, then a sync.
 */
export async function timeOnce(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  lib.scope(fn);
  await g.sync();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** n deterministic pseudo-random values, uniform in [-scale, scale) (an LCG seeded by `seed`). */
export function rand(n, seed, scale = 3) {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return a;
}

/** The value after `--name` in a runner's args, or `dflt` when the option is absent. */
export function option(args, name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Bytes moved (read + written) per second by a buffer-to-buffer copy, GB/s. */
export async function copyBandwidth(bytes = 16 * 1024 * 1024) {
  const a = lib.empty([bytes / 4]);
  const b = lib.empty([bytes / 4]);
  const ms = await timeMs(() => g.copy(a.slice(), b.slice(), bytes), { reps: 9, inner: 4 });
  a.dispose(); b.dispose();
  return (2 * bytes) / (ms * 1e6);
}

export function adapterLine() {
  const i = g.info;
  return `${i.vendor} ${i.architecture} — ${i.description}${i.isSoftware ? ' (software)' : ''}`;
}

export function printTable(rows, cols) {
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  console.log(cols.map((c, i) => c.padEnd(w[i])).join('  '));
  console.log(w.map((x) => '-'.repeat(x)).join('  '));
  for (const r of rows) console.log(cols.map((c, i) => String(r[c] ?? '').padEnd(w[i])).join('  '));
}

export function writeJson(name, data) {
  const dir = new URL('./out/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const path = new URL(`${name}.json`, dir);
  writeFileSync(path, JSON.stringify({ adapter: g.info, date: new Date().toISOString(), ...data }, null, 2));
  console.log(`wrote ${path.pathname}`);
}

// A compute-shader copy: vec4 loads and stores, 8 consecutive units per invocation (the best of
// the layouts measured on lavapipe, see docs/results.md). What one read + one write pass over a
// buffer costs as a kernel; the reference for kernels' bandwidth next to copyBufferToBuffer.
const copyVec4 = lib.internal.registerKernel({ name: 'bench:copy_vec4', file: 'bench/common.mjs', params: lib.internal.paramBlock('bench.copy', { n: 'u32' }), code: `
//#params
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> b: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i0 = (gid.x + gid.y * nw.x * 64u) * 8u;
  let i1 = min(i0 + 8u, p.n);
  for (var i = i0; i < i1; i = i + 1u) { b[i] = a[i]; }
}` });

/** Encode a compute-shader copy of `bytes` (a multiple of 16) from tensor a to tensor b. */
export function kernelCopy(a, b, bytes) {
  const units = bytes / 16;
  g.dispatch({ kernel: copyVec4, label: 'bench_copy', params: { n: units }, bindings: [a.slice(), b.slice()], workgroups: lib.internal.grid(Math.ceil(units / 8), 64) });
}
