// The WGSL fold (wgsl-dedup) kernel by kernel: `npm run bench -- wgsl-fold-ab [--base REV]
// [--reps N] [--inner N] [--only REGEX]`. Each kernel's text before the fold (kernels/*.wgsl at
// REV, default fc74105, the commit before it, instantiated with that file's blocks) and after it
// (this tree's kernels/, this tree's blocks) are registered side by side in ONE device,
// dispatched on the same buffers, outputs compared bitwise, then timed round-robin (old, new
// alternating first): median and best ms per dispatch. One device, because two builds loaded
// in one process each get their own device, and two identical builds timed that way differed
// by up to ~15% in medians on the scalar elementwise ops: more than a kernel-text change.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { lib, g, median, rand, option as arg } from './common.mjs';

export async function run(args) {
const base = arg(args, 'base', 'fc74105');
const reps = Number(arg(args, 'reps', 40)), inner = Number(arg(args, 'inner', 6));
const only = arg(args, 'only', null) ? new RegExp(arg(args, 'only', '')) : null;
const rd = (p) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');
const rdOld = (p) => execFileSync('git', ['show', `${base}:${p}`], { encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
const S = {
  old: { ew: rdOld('kernels/elementwise.wgsl'), loss: rdOld('kernels/losses.wgsl'), sm: rdOld('kernels/softmax.wgsl'), ix: rdOld('kernels/index.wgsl') },
  new: { ew: rd('kernels/elementwise.wgsl'), loss: rd('kernels/losses.wgsl'), sm: rd('kernels/softmax.wgsl'), ix: rd('kernels/index.wgsl') },
};
const vw = rd('kernels/vec_width.wgsl');
const I = lib.internal.instantiate;
const W = (code, w) => `${code}\n${I(vw, `W${w}`)}`;
const v4 = (e) => e.replace(/(?<![\w.])(\d+\.\d*(?:e[+-]?\d+)?)(?![\w.])/g, 'T($1)');
// kernel texts: [old, new]
const K = {
  'ew exp scalar': [I(S.old.ew, 'UNARY', { EXPR: 'exp(x)' }), I(S.new.ew, ['SCALAR', 'FLAT', 'UNARY'], { EXPR: 'exp(x)' })],
  'ew affine v4': [I(S.old.ew, ['VEC4', 'UNARY4'], { EXPR: v4('alpha * x + beta') }), I(S.new.ew, ['VEC4', 'FLAT', 'UNARY'], { EXPR: v4('alpha * x + beta') })],
  'ew exp v4': [I(S.old.ew, ['VEC4', 'UNARY4'], { EXPR: v4('exp(x)') }), I(S.new.ew, ['VEC4', 'FLAT', 'UNARY'], { EXPR: v4('exp(x)') })],
  'ew relu_bwd scalar': [I(S.old.ew, 'UNARY_BWD', { EXPR: 'select(0.0, g, y > 0.0)' }), I(S.new.ew, ['SCALAR', 'FLAT', 'UNARY_BWD'], { EXPR: 'select(0.0, g, y > 0.0)' })],
  'ew relu_bwd v4': [I(S.old.ew, ['VEC4', 'UNARY_BWD4'], { EXPR: v4('select(0.0, g, y > 0.0)') }), I(S.new.ew, ['VEC4', 'FLAT', 'UNARY_BWD'], { EXPR: v4('select(0.0, g, y > 0.0)') })],
  'ew add scalar same': [I(S.old.ew, 'BINARY', { EXPR: 'x + y' }), I(S.new.ew, ['SCALAR', 'STRIDED'], { EXPR: 'x + y' })],
  'ew mul scalar strided': [I(S.old.ew, 'BINARY', { EXPR: 'x * y' }), I(S.new.ew, ['SCALAR', 'STRIDED'], { EXPR: 'x * y' })],
  'ew add v4': [I(S.old.ew, ['VEC4', 'BINARY4'], { EXPR: 'x + y' }), I(S.new.ew, ['VEC4', 'FLAT', 'BINARY'], { EXPR: 'x + y' })],
  'ew mul bc4 channel': [I(S.old.ew, ['VEC4', 'BC4_B', 'BC4'], { EXPR: 'x * y', XV: 'fv', YV: 'sv' }), I(S.new.ew, ['VEC4', 'BC4_B', 'BC4'], { EXPR: 'x * y', XV: 'fv', YV: 'sv' })],
  'ew add bc4 row': [I(S.old.ew, ['VEC4', 'BC4_A', 'BC4'], { EXPR: 'x + y', XV: 'sv', YV: 'fv' }), I(S.new.ew, ['VEC4', 'BC4_A', 'BC4'], { EXPR: 'x + y', XV: 'sv', YV: 'fv' })],
  'ce w4': [W(I(S.old.loss, 'CE'), 4), W(I(S.new.loss, ['ROW', 'CE']), 4)],
  'ce w1': [W(I(S.old.loss, 'CE'), 1), W(I(S.new.loss, ['ROW', 'CE']), 1)],
  'kd w4': [W(I(S.old.loss, 'KD'), 4), W(I(S.new.loss, ['ROW', 'KD']), 4)],
  'kd w1': [W(I(S.old.loss, 'KD'), 1), W(I(S.new.loss, ['ROW', 'KD']), 1)],
  'finish': [I(S.old.loss, 'FINISH'), I(S.new.loss, ['FINISH', 'LABELS'])],
  'softmax fwd': [I(S.old.sm, 'FWD'), I(S.new.sm, 'FWD')],
  'softmax bwd': [I(S.old.sm, 'BWD'), I(S.new.sm, 'BWD')],
  'gather bwd': [I(S.old.ix, 'GATHER_BWD'), I(S.new.ix, ['GATHER_BWD', 'SCATTER'])],
  'one hot': [I(S.old.ix, 'ONE_HOT'), I(S.new.ix, ['ONE_HOT', 'SCATTER'])],
};
const names = Object.keys(K).filter((n) => !only || only.test(n));
for (const n of names) { lib.internal.registerKernel(`kab:${n}:old`, K[n][0], n); lib.internal.registerKernel(`kab:${n}:new`, K[n][1], n); }

const t = (a, s) => lib.keep(lib.tensor(a, s));
const NX = 32 * 64 * 32 * 32, B = 1024, N = 1000;
const x = t(rand(NX, 1), [NX]), y = t(rand(NX, 2), [NX]), o = lib.keep(lib.empty([NX]));
const c64 = t(rand(64, 3), [64]), r32 = t(rand(32, 4), [32]), odd = t(rand(32 * 32, 5), [32 * 32]);
const z = t(rand(B * N, 11), [B * N]), zb = t(rand(B * N, 12), [B * N]), dz = lib.keep(lib.empty([B * N])), rl = lib.keep(lib.empty([B]));
const lab = lib.keep(lib.tensor(Int32Array.from({ length: B }, (_, i) => (i * 7919) % N), [B], { dtype: 'i32' }));
const st = lib.keep(lib.tensor(new Int32Array(8), [8], { dtype: 'i32' }));
const gr = t(rand(B, 17), [B]);
const Z24 = new Array(24).fill(0);
const vec8 = (v) => [...v, ...new Array(8 - v.length).fill(0)];
const n1 = NX - 1;   // scalar kernels: an odd count as the ops would see
// how each kernel is dispatched: (module) => dispatch desc
const D = {
  'ew exp scalar': { b: [x, o], u: [n1, 0, 0, 0, ...Z24], f: [0, 0], w: lib.internal.grid(n1, 256) },
  'ew affine v4': { b: [x, o], u: [NX / 4, 0, 0, 0, ...Z24], f: [1.5, -0.25], w: lib.internal.grid(NX / 16, 256), k: true },
  'ew exp v4': { b: [x, o], u: [NX / 4, 0, 0, 0, ...Z24], f: [0, 0], w: lib.internal.grid(NX / 16, 256), k: true },
  'ew relu_bwd scalar': { b: [x, y, o], u: [n1, 0, 0, 0, ...Z24], f: [0, 0], w: lib.internal.grid(n1, 256) },
  'ew relu_bwd v4': { b: [x, y, o], u: [NX / 4, 0, 0, 0, ...Z24], f: [0, 0], w: lib.internal.grid(NX / 16, 256), k: true },
  'ew add scalar same': { b: [x, y, o], u: [n1, 0, 0, 0, ...Z24], f: [0, 0], w: lib.internal.grid(n1, 256) },
  // [32,64,32,32] * [32,1,32,1]
  'ew mul scalar strided': { b: [x, odd, o], u: [NX, 4, 0, 0, ...vec8([32, 64, 32, 32]), ...vec8([65536, 1024, 32, 1]), ...vec8([32, 0, 1, 0])], f: [0, 0], w: lib.internal.grid(NX, 256) },
  'ew add v4': { b: [x, y, o], u: [NX / 4, 0, 0, 0, ...Z24], f: [0, 0], w: lib.internal.grid(NX / 16, 256), k: true },
  // [32,64,32,32] * [1,64,1,1]: inner 1024, count 64, step 0
  'ew mul bc4 channel': { b: [x, c64, o], u: [NX / 4, 1, 0, 0, 1024, 64, 0, 1024 % 1024, Math.floor(1024 / 1024) % 64, ...new Array(19).fill(0)], f: [0, 0], w: lib.internal.grid(NX / 16, 256), k: true },
  // [32] + [.., 32]: inner 1, count 32, step 1
  'ew add bc4 row': { b: [r32, x, o], u: [NX / 4, 1, 0, 0, 1, 32, 1, 1024 % 1, Math.floor(1024 / 1) % 32, ...new Array(19).fill(0)], f: [0, 0], w: lib.internal.grid(NX / 16, 256), k: true },
  'ce w4': { b: [z, lab, dz, rl], u: [B, N, 0, 0], f: [0, 0, 0.1, 1 / B], w: lib.internal.grid(B, 64), c: { GRAD: 1 } },
  'ce w1': { b: [z, lab, dz, rl], u: [B, 999, 0, 0], f: [0, 0, 0.1, 1 / B], w: lib.internal.grid(B, 64), c: { GRAD: 1 } },
  'kd w4': { b: [z, zb, dz, rl], u: [B, N, 0, 0], f: [0, 4, 0, 1 / B], w: lib.internal.grid(B, 64), c: { GRAD: 1 } },
  'kd w1': { b: [z, zb, dz, rl], u: [B, 999, 0, 0], f: [0, 2, 0, 1 / B], w: lib.internal.grid(B, 64), c: { GRAD: 1 } },
  'finish': { b: [z, rl, lab, st], u: [1, B * 64, B * 64, B], f: [0, N, 0, 1 / B], w: [1] },
  'softmax fwd': { b: [z, dz], u: [B, N, 0, 0], w: lib.internal.grid(B, 64), c: { LOG: 0 } },
  'softmax bwd': { b: [z, zb, dz], u: [B, N, 0, 0], w: lib.internal.grid(B, 64), c: { LOG: 0 } },
  'gather bwd': { b: [gr, lab, dz], u: [B, N, B * N, 0], w: lib.internal.grid(B * N, 256) },
  'one hot': { b: [lab, dz], u: [B, N, B * N, 0], w: lib.internal.grid(B * N, 256) },
};
const outOf = (n) => D[n].b[D[n].b.length - 1] === st ? rl : (['ce w4', 'ce w1', 'kd w4', 'kd w1'].includes(n) ? dz : D[n].b[D[n].b.length - 1]);
function run(n, v) {
  const d = D[n];
  g.dispatch({ module: `kab:${n}:${v}`, constants: d.k ? { K: 4 } : d.c, bindings: d.b.map((q) => q.slice()), u: d.u, f: d.f, workgroups: d.w });
}
let bad = 0;
for (const n of names) {
  const r = {};
  for (const v of ['old', 'new']) { run(n, v); r[v] = new Uint8Array(((await outOf(n).read()).buffer).slice(0)); }
  let diff = 0; for (let i = 0; i < r.old.length; i++) if (r.old[i] !== r.new[i]) diff++;
  if (diff) { bad++; console.log(`DIFF ${n}: ${diff} bytes`); }
  if (['ce w4', 'ce w1', 'kd w4', 'kd w1'].includes(n)) {
    const q = {}; for (const v of ['old', 'new']) { run(n, v); q[v] = new Uint8Array(((await rl.read()).buffer).slice(0)); }
    let d2 = 0; for (let i = 0; i < q.old.length; i++) if (q.old[i] !== q.new[i]) d2++;
    if (d2) { bad++; console.log(`DIFF ${n} rowLoss: ${d2} bytes`); }
  }
}
console.log(bad ? `${bad} differ` : `all ${names.length} kernels: outputs bitwise identical`);
const T = {}; for (const n of names) for (const v of ['old', 'new']) T[`${n}|${v}`] = [];
for (let r = 0; r < reps; r++) for (const n of names) for (const v of (r % 2 ? ['new', 'old'] : ['old', 'new'])) {
  const t0 = performance.now();
  for (let j = 0; j < inner; j++) run(n, v);
  await g.sync();
  T[`${n}|${v}`].push((performance.now() - t0) / inner);
}
const med = median;
const f = (v) => v.toFixed(3).padStart(8);
console.log(`${'kernel'.padEnd(22)} ${'old med'.padStart(8)} ${'new med'.padStart(8)} ${'old min'.padStart(8)} ${'new min'.padStart(8)}  new/old med  new/old min   [ms per dispatch, ${reps} samples x ${inner}]`);
for (const n of names) {
  const a = T[`${n}|old`], b = T[`${n}|new`];
  console.log(`${n.padEnd(22)} ${f(med(a))} ${f(med(b))} ${f(Math.min(...a))} ${f(Math.min(...b))}  ${(med(b) / med(a)).toFixed(3).padStart(11)}  ${(Math.min(...b) / Math.min(...a)).toFixed(3).padStart(11)}`);
}
if (bad) throw new Error(`${bad} kernels differ`);
}
