// The matmul autotune harness: times every available variant on one shape per bucket (a few
// synced runs each, after a warm-up run whose result is checked against the first variant's)
// and stores the fastest per bucket as this adapter's table (matmul-variant.ts), which
// matmulRaw consults from then on. Inputs are seeded uniforms from src/util/rng.ts.

import { gpu } from '../gpu/index.js';
import { OpError } from '../errors.js';
import { scope, tensor } from '../tensor/index.js';
import { SplitMix32 } from '../util/rng.js';
import { matmulRaw } from './matmul-launch.js';
import {
  MatmulVariant, MatmulTuneResult, availableMatmulVariants, defaultMatmulVariant, matmulBucket, storeMatmulTuning,
} from './matmul-variant.js';

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

/** Uniform inputs in [-0.5, 0.5) of the timed products (seeded: every run times the same data; conv's autotune too). */
export function tuneInput(n: number, seed: number): Float32Array {
  return new SplitMix32(seed).fillUniform(n, -0.5, 0.5);
}

/**
 * Time every available variant on one shape per bucket (a few synced runs each, after a
 * warm-up that also checks the result against the first variant timed) and keep the fastest
 * per bucket for this adapter. Later matmulRaw calls without an explicit variant use the table.
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
    const a = tensor(tuneInput(ta ? k * m : m * k, 1), ta ? [k, m] : [m, k]);
    const b = tensor(tuneInput(tb ? n * k : k * n, 2), tb ? [n, k] : [k, n]);
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
  storeMatmulTuning(result);
  return result;
}

/** Whether a variant's product x agrees with the reference variant's y (f32 sums over k terms in another order). */
export function closeEnough(x: Float32Array, y: Float32Array, k: number): boolean {
  const tol = 1e-5 * Math.sqrt(k) + 1e-5;
  for (let i = 0; i < x.length; i++) if (!(Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(y[i])))) return false;
  return true;
}
