// Pooling forward (under noGrad) and backward (the op's own backward rule, called on a recorded
// node with a fixed output gradient) for maxPool2d, avgPool2d, globalAvgPool2d on a few shapes:
// best and median ms of `reps` round-robin repetitions (every case and build takes one turn per
// round, so the machine's load falls on all of them alike).
//   npm run bench -- pool [--reps N] [--only TEXT] [--against DIR]   (--only: cases whose label has TEXT)
// --against DIR (repeatable) also loads another build of the library (e.g. one made with
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

function data(n, seed, quantized) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = (s / 4294967296) * 4 - 2; }
  // max: values on a grid, so tied maxima exercise the tie-breaking
  if (quantized) for (let i = 0; i < n; i++) a[i] = Math.round(a[i] * 64) / 64;
  return a;
}

async function setup(lib, c) {
  const g = await lib.init();
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = lib.keep(lib.tensor(data(n, 7, c.op === 'max'), c.shape, { requiresGrad: true }));
  const opts = { kernelSize: c.k, stride: c.s, padding: c.p };
  const f = (t) => (c.op === 'max' ? lib.ops.maxPool2d(t, opts) : c.op === 'avg' ? lib.ops.avgPool2d(t, opts) : lib.ops.globalAvgPool2d(t));
  // y keeps its node (and what the node saved, e.g. the argmax) for the backward timings
  const y = lib.keep(f(x));
  const gy = lib.keep(lib.tensor(data(y.size, 9, false), y.shape));
  const fwd = () => lib.noGrad(() => f(x));
  const bwd = () => lib.noGrad(() => y.node.backward(gy));
  return { lib, g, x, y, gy, fwd, bwd };
}

async function timeOnce(st, fn, inner) {
  await st.g.sync();
  const t0 = performance.now();
  st.lib.scope(() => { for (let i = 0; i < inner; i++) fn(); });
  await st.g.sync();
  return (performance.now() - t0) / inner;
}

/** y under noGrad, y with the gradient recorded, dx from the backward rule. */
async function outputs(st) {
  const y = st.fwd();
  const yv = await y.read();
  y.dispose();
  const [dx] = st.bwd();
  const dv = await dx.read();
  dx.dispose();
  return [yv, await st.y.read(), dv];
}

export async function run(args = []) {
  const at = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
  const reps = Number(at('--reps', 15));
  const inner = 3;
  const builds = [{ name: 'here', lib: here }];
  const others = args.flatMap((a, i) => (a === '--against' ? [args[i + 1]] : []));
  for (const dir of others) builds.push({ name: dir.replace(/\/+$/, '').split('/').pop(), lib: await import(pathToFileURL(resolve(dir, 'index.js')).href) });
  const other = others.length > 0;
  console.log(`adapter: ${adapterLine()}; ${reps} rounds, ${inner} calls per timing`);
  const states = [];
  const only = at('--only', '');
  for (const c of CASES.filter((c) => label(c).includes(only))) for (const b of builds) states.push({ c, b: b.name, ...(await setup(b.lib, c)), fwdT: [], bwdT: [] });
  if (other) {
    for (let i = 0; i < states.length; i++) {
      if (states[i].b === 'here') continue;
      const [a, b] = [await outputs(states[i]), await outputs(states[i - (builds.findIndex((x) => x.name === states[i].b))])];
      for (let k = 0; k < 3; k++) {
        let diff = 0, maxRel = 0;
        for (let j = 0; j < a[k].length; j++) if (a[k][j] !== b[k][j]) { diff++; maxRel = Math.max(maxRel, Math.abs(a[k][j] - b[k][j]) / Math.max(Math.abs(b[k][j]), 1e-30)); }
        console.log(`${label(states[i].c)} ${states[i].b} ${['y (noGrad)', 'y (grad)', 'dx'][k]}: ${diff ? `${diff} of ${a[k].length} differ (max rel ${maxRel.toExponential(2)})` : 'bitwise identical'}`);
      }
    }
  }
  for (const st of states) { await timeOnce(st, st.fwd, inner); await timeOnce(st, st.bwd, inner); }
  for (let r = 0; r < reps; r++) {
    for (const st of states) {
      st.fwdT.push(await timeOnce(st, st.fwd, inner));
      st.bwdT.push(await timeOnce(st, st.bwd, inner));
    }
  }
  const rows = states.map((st) => ({
    case: label(st.c), build: st.b,
    'fwd best': Math.min(...st.fwdT).toFixed(2), 'fwd med': median(st.fwdT).toFixed(2),
    'bwd best': Math.min(...st.bwdT).toFixed(2), 'bwd med': median(st.bwdT).toFixed(2),
  }));
  printTable(rows, ['case', 'build', 'fwd best', 'fwd med', 'bwd best', 'bwd med']);
  if (args.includes('--json')) writeJson('pool', { reps, inner, rows });
  for (const b of builds) if (b.lib !== here) await b.lib.shutdown();
}
