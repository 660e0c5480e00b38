// Matmul with the transposed forms backward needs, optional fused bias + ReLU
// epilogue, batched over a leading dimension. Three kernel variants (see
// kernels/matmul.wgsl and docs/matmul.md):
//   'rb'    register-blocked, no barriers, portable (4×4 per invocation);
//   'sg'    register-blocked, no barriers, rows spread by subgroupBroadcast: what lavapipe
//           runs fastest; reads A as [K, M] and B as [K, N], other layouts are transposed
//           first (one cheap pass per operand); needs the 'subgroups' feature;
//   'tiled' workgroup memory + barriers: what hardware GPUs run fast.
// The variant is chosen per adapter: `autotuneMatmul()` times each variant on a few
// shapes and keeps the winner per shape bucket; untuned, software adapters use 'sg'
// (or 'rb' without subgroups) and hardware GPUs 'tiled'. `setMatmulVariant` forces one.

import src from '../../kernels/matmul.wgsl';
import { registerKernel, hasKernel } from '../gpu/index.js';
import { instantiate } from '../gpu/index.js';
import { gpu } from '../gpu/index.js';
import type { BufferSlice } from '../gpu/index.js';
import { Tensor, empty, scope, tensor } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { checkF32, checkF32Pair, out, OpError, shapeStr } from './common.js';
import { sumTo, sumToOwned } from './reduce.js';
import { reluBackward as reluMask } from './activation.js';

const FILE = 'kernels/matmul.wgsl';
export type MatmulVariant = 'rb' | 'sg' | 'tiled';
export const MATMUL_VARIANTS: MatmulVariant[] = ['rb', 'sg', 'tiled'];
const BLOCK: Record<MatmulVariant, string> = { rb: 'RB', sg: 'SG', tiled: 'TILED' };
/** output tile of one workgroup, [rows, columns] */
const TILE: Record<MatmulVariant, [number, number]> = { rb: [32, 32], sg: [24, 16], tiled: [64, 64] };

// 'rb' and 'tiled' compile at init on every adapter; 'sg' uses `enable subgroups`, so it
// is registered (and compiled) on first use, only where the device has subgroups.
for (const v of ['rb', 'tiled'] as MatmulVariant[]) registerVariant(v);
registerKernel('matmul:transpose', instantiate(src, ['TRANSPOSE']), FILE);

// One module per kernel: bias and ReLU are uniform flags, the bias binding is always
// present (the device's placeholder buffer when there is none), so no epilogue needs a pipeline of its own.
function registerVariant(v: MatmulVariant): void {
  registerKernel(`matmul:${v}`, instantiate(src, [BLOCK[v], 'MM', 'MM_OR_V4']), FILE);
  // vec4-load form of 'rb' for aligned shapes
  if (v === 'rb') registerKernel('matmul:rb4', instantiate(src, ['RB4', 'V4', 'MM_OR_V4']), FILE);
}


/** Whether the 'sg' variant can run here: subgroups enabled, subgroups of at least 8 lanes. */
export function subgroupMatmulSupported(): boolean {
  const g = gpu();
  if (!g.features.has('subgroups')) return false;
  const info = g.adapter.info as GPUAdapterInfo & { subgroupMinSize?: number };
  return (info.subgroupMinSize ?? 0) >= 8;
}

/** Variants that can run on the current device. */
export function availableMatmulVariants(): MatmulVariant[] {
  return MATMUL_VARIANTS.filter((v) => v !== 'sg' || subgroupMatmulSupported());
}

let forced: MatmulVariant | null = null;
/** Force a matmul variant (null: choose per adapter / autotune table). */
export function setMatmulVariant(v: MatmulVariant | null): void {
  if (v !== null && !MATMUL_VARIANTS.includes(v)) throw new OpError('setMatmulVariant', `unknown variant '${v}' (expected ${MATMUL_VARIANTS.join(', ')})`);
  forced = v;
}

/**
 * The variant used when nothing is forced and no tuning applies: a fixed choice per adapter
 * ('tiled' on hardware; 'sg' on software adapters with subgroups, else 'rb'), and 'rb' for
 * small products on software adapters, where sg's transpose dispatches cost more than they save.
 */
export function defaultMatmulVariant(m?: number, n?: number, k?: number): MatmulVariant {
  if (!gpu().info.isSoftware) return 'tiled';
  if (m !== undefined && n !== undefined && k !== undefined && matmulBucket(m, n, k) === 'small') return 'rb';
  return subgroupMatmulSupported() ? 'sg' : 'rb';
}

// ---- autotune ---------------------------------------------------------------------------

/** Shape buckets the autotune table is kept for, by multiply-adds per output batch. */
export type MatmulBucket = 'small' | 'medium' | 'large';
export function matmulBucket(m: number, n: number, k: number): MatmulBucket {
  const macs = m * n * k;
  if (macs < 1 << 21) return 'small';
  if (macs < 1 << 27) return 'medium';
  return 'large';
}

export interface MatmulTuneEntry {
  /** [m, n, k, transA, transB] timed */
  shape: [number, number, number, boolean, boolean];
  /** ms per call for each variant timed (Infinity when it failed the check) */
  ms: Partial<Record<MatmulVariant, number>>;
  winner: MatmulVariant;
}
export interface MatmulTuneResult {
  adapter: string;
  buckets: Partial<Record<MatmulBucket, MatmulTuneEntry>>;
}

const tuned = new Map<string, MatmulTuneResult>();
/** The current adapter's key in the tuning table (a table outlives its device: re-init on the same adapter keeps it). */
function adapterKey(): string {
  const i = gpu().info;
  return `${i.vendor}|${i.architecture}|${i.description}|${i.device}`;
}

/** The autotune table for the current adapter, if `autotuneMatmul` ran. */
export function matmulTuning(): MatmulTuneResult | null {
  return tuned.get(adapterKey()) ?? null;
}

/** The variant matmulRaw uses for an [m, k]·[k, n] product when none is passed. */
export function matmulVariant(m?: number, n?: number, k?: number): MatmulVariant {
  if (forced) return forced;
  // the table is looked up only once some adapter was tuned (every matmul asks)
  const e = tuned.size && m !== undefined && n !== undefined && k !== undefined
    ? tuned.get(adapterKey())?.buckets[matmulBucket(m, n, k)] : undefined;
  return e?.winner ?? defaultMatmulVariant(m, n, k);
}

export interface AutotuneOptions {
  /** shapes to time, one per bucket: [m, n, k, transA, transB] */
  shapes?: [number, number, number, boolean, boolean][];
  /** synced runs per variant and shape (the best is kept) */
  reps?: number;
  /** print a line per shape */
  log?: (line: string) => void;
  /**
   * variants to time; default every available one, except 'tiled' on software adapters
   * (there it is ~5× slower than 'sg' and compiling its pipeline alone costs seconds)
   */
  variants?: MatmulVariant[];
}

const DEFAULT_TUNE_SHAPES: [number, number, number, boolean, boolean][] = [
  [64, 64, 64, false, true], // small: one linear layer of a tiny MLP
  [256, 500, 800, false, true], // medium: the skinny training shape (linear forward)
  [512, 512, 512, false, false], // large
];

/**
 * Time every available variant on one shape per bucket (a few synced runs each, after a
 * warm-up that also checks the result against 'rb') and keep the fastest per bucket for
 * this adapter. Later matmulRaw calls without an explicit variant use the table.
 * Takes about a second on lavapipe.
 */
export async function autotuneMatmul(opts: AutotuneOptions = {}): Promise<MatmulTuneResult> {
  const g = gpu();
  const shapes = opts.shapes ?? DEFAULT_TUNE_SHAPES;
  const reps = opts.reps ?? 2;
  const result: MatmulTuneResult = { adapter: g.info.description, buckets: {} };
  const available = availableMatmulVariants();
  const variants = (opts.variants ?? available.filter((v) => !(g.info.isSoftware && v === 'tiled'))).filter((v) => available.includes(v));
  if (!variants.length) throw new OpError('autotuneMatmul', `none of the variants ${opts.variants?.join(', ')} can run here (available: ${available.join(', ')})`);
  for (const [m, n, k, ta, tb] of shapes) {
    const a = tensor(randomData((ta ? k * m : m * k), 1), ta ? [k, m] : [m, k]);
    const b = tensor(randomData((tb ? n * k : k * n), 2), tb ? [n, k] : [k, n]);
    const ms: Partial<Record<MatmulVariant, number>> = {};
    let ref: Float32Array | null = null;
    for (const v of variants) {
      try {
        const c = matmulRaw(a, b, { transA: ta, transB: tb, variant: v });
        const got = await c.read() as Float32Array;
        c.dispose();
        if (!ref) ref = got;
        else if (!closeEnough(got, ref, k)) {
          ms[v] = Infinity;
          continue;
        }
        let best = Infinity;
        for (let r = 0; r < reps; r++) {
          const t0 = performance.now();
          scope(() => { matmulRaw(a, b, { transA: ta, transB: tb, variant: v }); });
          await g.sync();
          best = Math.min(best, performance.now() - t0);
        }
        ms[v] = best;
      } catch {
        ms[v] = Infinity;
      }
    }
    a.dispose();
    b.dispose();
    const dflt = defaultMatmulVariant(m, n, k);
    let winner = variants.includes(dflt) ? dflt : variants[0];
    for (const v of variants) if ((ms[v] ?? Infinity) < (ms[winner] ?? Infinity)) winner = v;
    const bucket = matmulBucket(m, n, k);
    result.buckets[bucket] = { shape: [m, n, k, ta, tb], ms, winner };
    opts.log?.(`autotune ${m}x${k}·${k}x${n}${ta ? ' Aᵀ' : ''}${tb ? ' Bᵀ' : ''} [${bucket}]: ` +
      variants.map((v) => `${v} ${(ms[v] ?? Infinity).toFixed(2)} ms`).join(', ') + ` → ${winner}`);
  }
  tuned.set(adapterKey(), result);
  return result;
}

/** Forget the autotune table of the current adapter (back to the per-adapter default). */
export function clearMatmulTuning(): void {
  tuned.delete(adapterKey());
}

function randomData(n: number, seed: number): Float32Array {
  const d = new Float32Array(n);
  let s = seed * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    d[i] = s / 4294967296 - 0.5;
  }
  return d;
}

function closeEnough(x: Float32Array, y: Float32Array, k: number): boolean {
  const tol = 1e-5 * Math.sqrt(k) + 1e-5;
  for (let i = 0; i < x.length; i++) if (!(Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(y[i])))) return false;
  return true;
}

// ---- launch -----------------------------------------------------------------------------

export interface MatmulRawOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor | null;
  relu?: boolean;
  variant?: MatmulVariant;
}

/** Y[b] = X[b]ᵀ for X viewed as [batch, rows, cols]; returns [batch, cols, rows]. */
export function transposeRaw(x: Tensor, batch: number, rows: number, cols: number): Tensor {
  const y = empty([batch, cols, rows]);
  gpu().dispatch({
    module: 'matmul:transpose',
    label: 'matmul(transpose)',
    bindings: [x.slice('matmul'), y.slice('matmul')],
    u: [rows, cols, 0, 0, rows * cols, 0, 0, 0],
    workgroups: [Math.ceil(cols / 32), Math.ceil(rows / 32), batch],
  });
  return y;
}

/** Whether every dispatch of `variant` for this product fits the per-dimension workgroup limit. */
function fitsGrid(variant: MatmulVariant, m: number, n: number, k: number, batch: number, ta: boolean, tb: boolean): boolean {
  const lim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const [tm, tn] = TILE[variant];
  if (Math.ceil(n / tn) > lim || Math.ceil(m / tm) > lim || batch > lim) return false;
  if (variant === 'sg') {
    // transposes: A [m, k] when not transposed, B [n, k] when transposed; grid (cols/32, rows/32)
    if (!ta && (Math.ceil(k / 32) > lim || Math.ceil(m / 32) > lim)) return false;
    if (tb && (Math.ceil(k / 32) > lim || Math.ceil(n / 32) > lim)) return false;
  }
  return true;
}

/**
 * C = op(A)·op(B) for 2-D operands, or batched when either is 3-D ([batch, ., .];
 * a 2-D operand is broadcast over the batch). No autograd.
 */
export function matmulRaw(a: Tensor, b: Tensor, o: MatmulRawOptions = {}): Tensor {
  let ta = !!o.transA;
  let tb = !!o.transB;
  const ar = a.rank;
  const br = b.rank;
  const [am, ak] = ta ? [a.shape[ar - 1], a.shape[ar - 2]] : [a.shape[ar - 2], a.shape[ar - 1]];
  const [bk, bn] = tb ? [b.shape[br - 1], b.shape[br - 2]] : [b.shape[br - 2], b.shape[br - 1]];
  if (ak !== bk) {
    throw new OpError('matmul', `inner dimensions differ: ${shapeStr(a.shape)}${ta ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${tb ? 'ᵀ' : ''} (${ak} vs ${bk})`);
  }
  const batchA = ar === 3 ? a.shape[0] : 1;
  const batchB = br === 3 ? b.shape[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new OpError('matmul', `batch sizes differ: ${shapeStr(a.shape)} · ${shapeStr(b.shape)}`);
  }
  if (o.bias && (o.bias.size !== bn)) {
    throw new OpError('matmul', `bias ${shapeStr(o.bias.shape)} must have ${bn} elements (columns of the product)`);
  }
  const batch = Math.max(batchA, batchB);
  const shape = ar === 3 || br === 3 ? [batch, am, bn] : [am, bn];
  const c = out(shape);
  if (c.size === 0) return c;
  const m = am, n = bn, k = ak;
  let variant = o.variant ?? matmulVariant(m, n, k);
  // an empty inner dimension (C = bias or 0) takes the plain kernel: no transposes of empty operands
  if (k === 0 && variant === 'sg') variant = 'rb';
  if (variant === 'sg' && !subgroupMatmulSupported()) {
    if (o.variant) throw new OpError('matmul', `variant 'sg' needs the 'subgroups' feature with subgroups of at least 8 lanes, which this device lacks`);
    variant = 'rb';
  }
  if (!fitsGrid(variant, m, n, k, batch, ta, tb)) {
    // dispatch grids are limited per dimension (65,535 workgroups on most adapters)
    const alt = (['rb', 'tiled'] as MatmulVariant[]).find((v) => fitsGrid(v, m, n, k, batch, ta, tb));
    if (!alt) throw new OpError('matmul', `product ${shapeStr(a.shape)}${ta ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${tb ? 'ᵀ' : ''} needs more workgroups per dimension than the device allows (${gpu().limits.maxComputeWorkgroupsPerDimension})`);
    variant = alt;
  }
  if (variant === 'sg' && !hasKernel('matmul:sg')) registerVariant('sg');
  let av = a;
  let bv = b;
  const temps: Tensor[] = [];
  if (variant === 'sg') {
    // the kernel reads A as [K, M] and B as [K, N]
    if (!ta) {
      av = transposeRaw(a, batchA, m, k);
      temps.push(av);
      ta = true;
    }
    if (tb) {
      bv = transposeRaw(b, batchB, n, k);
      temps.push(bv);
      tb = false;
    }
  }
  const [tileM, tileN] = TILE[variant];
  // 'rb' reads vec4s where the vectorised dimensions are multiples of 4
  const vec4 = variant === 'rb' && k % 4 === 0 && (!ta || m % 4 === 0) && (tb || n % 4 === 0);
  const kernel = vec4 ? 'rb4' : variant;
  // scalar rb and tiled read the transposes from a uniform (one pipeline for all forms)
  const flagged = kernel === 'rb' || kernel === 'tiled';
  const bindings = [av.slice('matmul'), bv.slice('matmul'), c.slice('matmul'), o.bias ? o.bias.slice('matmul') : gpu().placeholder()];
  gpu().dispatch({
    module: `matmul:${kernel}`,
    label: `matmul(${kernel})`,
    constants: { TA: flagged ? 0 : +ta, TB: flagged ? 0 : +tb },
    bindings,
    u: [m, n, k, o.relu ? 1 : 0, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n, m * n, (flagged ? +ta | (+tb << 1) : 0) | (o.bias ? 4 : 0)],
    workgroups: [Math.ceil(n / tileN), Math.ceil(m / tileM), batch],
  });
  for (const t of temps) t.dispose();
  return c;
}

/** Matrix product with PyTorch semantics for 2-D and batched 3-D operands. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkF32Pair(a, b, 'matmul');
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new OpError('matmul', `operands must be 2-D or 3-D, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const c = matmulRaw(a, b);
  const as = a.shape;
  const bs = b.shape;
  record('matmul', [a, b], c, [a, b], (g, [sa, sb]) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = g · Bᵀ, summed over the batch a 2-D or batch-1 operand was broadcast along
      ga = sumToOwned(matmulRaw(g, sb, { transB: true }), as);
    }
    if (b.requiresGrad) {
      gb = sumToOwned(matmulRaw(sa, g, { transA: true }), bs);
    }
    return [ga, gb];
  });
  return c;
}

/** y = x · wᵀ + b with w of shape [out, in] (PyTorch's nn.Linear). */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, opts: { relu?: boolean } = {}): Tensor {
  checkF32Pair(x, w, 'linear', 'x', 'weight');
  if (x.rank !== 2 || w.rank !== 2) throw new OpError('linear', `expects x [batch, in] and weight [out, in], got ${shapeStr(x.shape)} and ${shapeStr(w.shape)}`);
  if (x.shape[1] !== w.shape[1]) throw new OpError('linear', `x ${shapeStr(x.shape)} has ${x.shape[1]} features but weight ${shapeStr(w.shape)} expects ${w.shape[1]}`);
  if (b) {
    checkF32(b, 'linear', 'bias');
    if (b.rank !== 1 || b.shape[0] !== w.shape[0]) throw new OpError('linear', `bias ${shapeStr(b.shape)} must be [${w.shape[0]}]`);
  }
  const relu = !!opts.relu;
  const y = matmulRaw(x, w, { transB: true, bias: b ?? null, relu });
  const saved = relu ? [x, w, y] : [x, w];
  record('linear', b ? [x, w, b] : [x, w], y, saved, (g, [sx, sw, sy]) => {
    let gz = g;
    if (relu) gz = reluMask(g, sy);
    const gx = x.requiresGrad ? matmulRaw(gz, sw) : null;
    const gw = w.requiresGrad ? matmulRaw(gz, sx, { transA: true }) : null;
    const gb = b && b.requiresGrad ? sumTo(gz, [w.shape[0]]) : null;
    if (gz !== g) gz.dispose();
    return b ? [gx, gw, gb] : [gx, gw];
  });
  return y;
}

