// Pooling forward and forward + backward (maxPool2d, avgPool2d, globalAvgPool2d) on a few
// shapes: best and median ms of `reps` round-robin repetitions (every case and build takes
// one turn per round, so the machine's load falls on all of them alike).
//   npm run bench -- pool [--reps N] [--against DIR]
// --against DIR also loads another build of the library (e.g. one made with
// FOCUSNET_DIST=bench/out/before-dist node build.mjs --no-types) into the same process and
// times it in the same rounds; it also checks that both builds give the same outputs.
import { printTable, writeJson, adapterLine, median } from './common.mjs';
import * as here from '../dist/index.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CASES = [
  { op: 'max', shape: [32, 64, 32, 32], k: 2, s: 2, p: 0 },
  { op: 'avg', shape: [32, 64, 32, 32], k: 2, s: 2, p: 0 },
  { op: 'max', shape: [256, 6, 28, 28], k: 2, s: 2, p: 0 },
  { op: 'avg', shape: [256, 6, 28, 28], k: 2, s: 2, p: 0 },
  { op: 'max', shape: [32, 32, 14, 14], k: 2, s: 2, p: 0 },
  { op: 'avg', shape: [32, 32, 14, 14], k: 2, s: 2, p: 0 },
  { op: 'max', shape: [32, 64, 32, 32], k: 3, s: 2, p: 1 },
  { op: 'avg', shape: [32, 64, 32, 32], k: 3, s: 2, p: 1 },
  { op: 'gap', shape: [32, 64, 32, 32] },
  { op: 'gap', shape: [256, 6, 28, 28] },
];

const label = (c) => `${c.op} ${JSON.stringify(c.shape)}${c.k ? ` k${c.k} s${c.s} p${c.p}` : ''}`;

function data(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  // a few exact ties (quantized values) so the max paths' tie-breaking is compared too
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = Math.round(((s / 4294967296) * 4 - 2) * 64) / 64; }
  return a;
}

async function setup(lib, c) {
  const g = await lib.init();
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = lib.keep(lib.tensor(data(n, 7), c.shape, { requiresGrad: true }));
  const opts = { kernelSize: c.k, stride: c.s, padding: c.p };
  const f = (t) => (c.op === 'max' ? lib.ops.maxPool2d(t, opts) : c.op === 'avg' ? lib.ops.avgPool2d(t, opts) : lib.ops.globalAvgPool2d(t));
  const y0 = lib.noGrad(() => f(x));
  const gy = lib.keep(lib.tensor(data(y0.size, 9), y0.shape));
  y0.dispose();
  const fwd = () => lib.noGrad(() => f(x));
  const both = () => { const y = f(x); lib.ops.sum(lib.ops.mul(y, gy)).backward(); };
  return { lib, g, x, gy, fwd, both };
}

async function timeOnce(st, fn, inner) {
  await st.g.sync();
  const t0 = performance.now();
  st.lib.scope(() => { for (let i = 0; i < inner; i++) fn(); });
  if (st.x.grad) { st.x.grad.dispose(); st.x.grad = null; }
  await st.g.sync();
  return (performance.now() - t0) / inner;
}

async function outputs(st) {
  const y = st.fwd();
  const yv = await y.read();
  y.dispose();
  st.both();
  const gv = await st.x.grad.read();
  st.x.grad.dispose(); st.x.grad = null;
  return [yv, gv];
}

export async function run(args = []) {
  const at = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
  const reps = Number(at('--reps', 15));
  const inner = 3;
  const builds = [{ name: 'here', lib: here }];
  const other = at('--against', null);
  if (other) builds.push({ name: 'against', lib: await import(pathToFileURL(resolve(other, 'index.js')).href) });
  console.log(`adapter: ${adapterLine()}; ${reps} rounds, ${inner} calls per timing`);
  const states = [];
  for (const c of CASES) for (const b of builds) states.push({ c, b: b.name, ...(await setup(b.lib, c)), fwdT: [], bothT: [] });
  if (other) {
    for (let i = 0; i < states.length; i += 2) {
      const [a, b] = [await outputs(states[i]), await outputs(states[i + 1])];
      for (let k = 0; k < 2; k++) {
        let diff = 0, maxRel = 0;
        for (let j = 0; j < a[k].length; j++) if (a[k][j] !== b[k][j]) { diff++; maxRel = Math.max(maxRel, Math.abs(a[k][j] - b[k][j]) / Math.max(Math.abs(b[k][j]), 1e-30)); }
        console.log(`${label(states[i].c)} ${k ? 'dx' : 'y '}: ${diff ? `${diff} of ${a[k].length} differ (max rel ${maxRel.toExponential(2)})` : 'bitwise identical'}`);
      }
    }
  }
  for (const st of states) { await timeOnce(st, st.fwd, inner); await timeOnce(st, st.both, inner); }
  for (let r = 0; r < reps; r++) {
    for (const st of states) {
      st.fwdT.push(await timeOnce(st, st.fwd, inner));
      st.bothT.push(await timeOnce(st, st.both, inner));
    }
  }
  const rows = states.map((st) => ({
    case: label(st.c), build: st.b,
    'fwd best': Math.min(...st.fwdT).toFixed(2), 'fwd med': median(st.fwdT).toFixed(2),
    'fwd+bwd best': Math.min(...st.bothT).toFixed(2), 'fwd+bwd med': median(st.bothT).toFixed(2),
  }));
  printTable(rows, ['case', 'build', 'fwd best', 'fwd med', 'fwd+bwd best', 'fwd+bwd med']);
  if (args.includes('--json')) writeJson('pool', { reps, inner, rows });
  for (const b of builds) if (b.lib !== here) await b.lib.shutdown();
}
