// Which matmul kernel variant runs a product (see docs/matmul.md):
//   'rb'    register-blocked, no barriers, portable (4×4 per invocation);
//   'sg'    register-blocked, no barriers, rows spread by subgroupBroadcast: what lavapipe
//           runs fastest; needs the 'subgroups' feature with subgroups of at least 8 lanes;
//   'tiled' workgroup memory + barriers: what hardware GPUs run fast.
// In order: a variant forced with `setMatmulVariant`; the autotune table of this adapter
// (written by `autotuneMatmul` in matmul-tune.ts) for the product's shape bucket; the
// per-adapter default (`defaultMatmulVariant`). matmulRaw (matmul-launch.ts) asks `matmulVariant`.

import { gpu } from '../gpu/index.js';
import { OpError } from '../errors.js';

export type MatmulVariant = 'rb' | 'sg' | 'tiled';
export const MATMUL_VARIANTS: MatmulVariant[] = ['rb', 'sg', 'tiled'];

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

/** Shape buckets the autotune table is kept for, by multiply-adds per output batch. */
export type MatmulBucket = 'small' | 'medium' | 'large';
export function matmulBucket(m: number, n: number, k: number): MatmulBucket {
  const macs = m * n * k;
  if (macs < 1 << 21) return 'small';
  if (macs < 1 << 27) return 'medium';
  return 'large';
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

// ---- the tuning table ---------------------------------------------------------------------

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
/** The current adapter's key in the tuning tables (matmul's and conv's; a table outlives its device: re-init on the same adapter keeps it). */
export function adapterKey(): string {
  const i = gpu().info;
  return `${i.vendor}|${i.architecture}|${i.description}|${i.device}`;
}

/** The autotune table for the current adapter, if `autotuneMatmul` ran. */
export function matmulTuning(): MatmulTuneResult | null {
  return tuned.get(adapterKey()) ?? null;
}

/** Keep `result` as the current adapter's table (autotuneMatmul's last step). */
export function storeMatmulTuning(result: MatmulTuneResult): void {
  tuned.set(adapterKey(), result);
}

/** Forget the autotune table of the current adapter (back to the per-adapter default). */
export function clearMatmulTuning(): void {
  tuned.delete(adapterKey());
}

/** The variant matmulRaw uses for an [m, k]·[k, n] product when none is passed. */
export function matmulVariant(m?: number, n?: number, k?: number): MatmulVariant {
  if (forced) return forced;
  // the table is looked up only once some adapter was tuned (every matmul asks)
  const e = tuned.size && m !== undefined && n !== undefined && k !== undefined
    ? tuned.get(adapterKey())?.buckets[matmulBucket(m, n, k)] : undefined;
  return e?.winner ?? defaultMatmulVariant(m, n, k);
}
