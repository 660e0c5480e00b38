// The convolution autotune table: per adapter (the same key as matmul's table), the path that
// won each measured (direction, exact shape) and each shape bucket, as autotuneConv (tune.ts)
// measured it. policy.ts's convPath consults it: the exact shape first, then its bucket.
// Buckets group shapes whose winner tends to agree: the direction, the work (multiply-adds,
// in factors of 16), narrow or wide channels, and stride 1 or larger.

import { adapterKey } from '../matmul-variant.js';
import type { ConvGeom } from './geometry.js';
import type { ConvDirection, ConvPath } from './policy.js';

export interface ConvTuneEntry {
  dir: ConvDirection;
  /** the exact shape (convShapeKey) or the bucket (convBucket) */
  key: string;
  /** ms per call of every path timed (summed over the shapes of a bucket; Infinity: failed the check) */
  ms: Partial<Record<ConvPath, number>>;
  winner: ConvPath;
}
export interface ConvTuneResult {
  adapter: string;
  /** by `${dir}|${convShapeKey}` */
  shapes: Record<string, ConvTuneEntry>;
  /** by convBucket */
  buckets: Record<string, ConvTuneEntry>;
}

/** Multiply-adds of one direction (the same for all three). */
export const convMacs = (g: ConvGeom): number => g.n * g.cout * g.oh * g.ow * g.cing * g.kh * g.kw;

/** The exact shape of a convolution as a table key. */
export function convShapeKey(g: ConvGeom): string {
  return `n${g.n} c${g.cin}x${g.h}x${g.w} o${g.cout} k${g.kh}x${g.kw} s${g.sh}x${g.sw} p${g.ph}x${g.pw} g${g.groups}`;
}

/** The bucket of a direction of `g`: work class, channel class, stride class. */
export function convBucket(g: ConvGeom, dir: ConvDirection): string {
  const macs = convMacs(g);
  const size = macs < 2 ** 22 ? 'xs' : macs < 2 ** 26 ? 's' : macs < 2 ** 30 ? 'm' : 'l';
  const chans = Math.min(g.cing, g.coutg) < 16 ? 'narrow' : 'wide';
  const stride = g.sh * g.sw > 1 ? 'strided' : 'unit';
  return `${dir}|${size}|${chans}|${stride}`;
}

const tables = new Map<string, ConvTuneResult>();

/** The conv autotune table of the current adapter, if autotuneConv ran. */
export function convTuningTable(): ConvTuneResult | null {
  return tables.get(adapterKey()) ?? null;
}

/** Merge `result` into the current adapter's table (autotuneConv's last step). */
export function storeConvTuning(result: ConvTuneResult): void {
  const prev = tables.get(adapterKey());
  tables.set(adapterKey(), prev
    ? { adapter: result.adapter, shapes: { ...prev.shapes, ...result.shapes }, buckets: { ...prev.buckets, ...result.buckets } }
    : result);
}

/** Forget the conv autotune table of the current adapter (back to the default rules). */
export function clearConvTuning(): void {
  tables.delete(adapterKey());
}

/** The measured winner for this direction of `g`: the exact shape's, else its bucket's, else null. */
export function tunedConvPath(g: ConvGeom, dir: ConvDirection): ConvPath | null {
  if (!tables.size) return null;
  const t = tables.get(adapterKey());
  if (!t) return null;
  return t.shapes[`${dir}|${convShapeKey(g)}`]?.winner ?? t.buckets[convBucket(g, dir)]?.winner ?? null;
}
