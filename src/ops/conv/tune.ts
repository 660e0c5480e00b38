// The convolution autotune: matmul's mechanism (matmul-tune.ts) for conv paths. For each
// geometry and direction it times every path that can run it (direct, im2col, the tiled
// configurations; by default without the tiled ones on software adapters, where barriers make
// them slow and their pipelines cost seconds to compile), after a warm-up run whose result is
// checked against the first path's, and keeps the winner per exact shape and per bucket in
// the adapter's table (tune-table.ts), which convPath consults from then on. The default path
// keeps its place unless another is faster by `margin`. `convShapesOf(fn)` collects the
// geometries a piece of code (one training step) convolves, to tune exactly those.

import { gpu } from '../../gpu/index.js';
import { OpError } from '../../errors.js';
import { scope, tensor, type Tensor } from '../../tensor/index.js';
import { closeEnough, tuneInput } from '../matmul-tune.js';
import type { ConvGeom } from './geometry.js';
import { conv2dGeometry } from './geometry.js';
import {
  type ConvDirection, type ConvPath, CONV_DIRECTIONS, candidatePaths, defaultConvPath, useDepthwiseKernels, useMatmul1x1,
} from './policy.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, setConvRecorder } from './launch.js';
import { type ConvTuneEntry, type ConvTuneResult, convBucket, convShapeKey, storeConvTuning } from './tune-table.js';
import { TILE_CONFIG_NAMES } from './tiled.js';

export interface ConvAutotuneOptions {
  /** geometries to time (conv2dGeometry / convShapesOf); default: three small representative layers */
  geoms?: ConvGeom[];
  /** directions to time (default all three) */
  directions?: ConvDirection[];
  /** paths to consider (default every possible one, less the tiled configurations on software adapters) */
  paths?: ConvPath[];
  /** synced runs per path (the best is kept; default 2) */
  reps?: number;
  /** a path other than the default wins only when faster by this fraction (default 0.05) */
  margin?: number;
  /** one line per shape and direction */
  log?: (line: string) => void;
}

/** Small layers of each kind (a ResNet block, its strided entry, LeNet's second layer). */
const DEFAULT_GEOMS = (): ConvGeom[] => [
  conv2dGeometry([8, 32, 16, 16], [32, 32, 3, 3], null, { padding: 1 }),
  conv2dGeometry([8, 32, 16, 16], [64, 32, 3, 3], null, { stride: 2, padding: 1 }),
  conv2dGeometry([32, 6, 14, 14], [16, 6, 5, 5], null, {}),
];

/** Whether a direction of `g` is decided by a structural rule (1×1 as a matmul, the depthwise kernels), not by convPath. */
function structural(g: ConvGeom, dir: ConvDirection): boolean {
  if (dir === 'dgrad') return useMatmul1x1(g);
  return useDepthwiseKernels(g);
}

/** Reduction length of a direction (for the agreement tolerance). */
const reduction = (g: ConvGeom, dir: ConvDirection) =>
  dir === 'fwd' ? g.cing * g.kh * g.kw : dir === 'dgrad' ? g.coutg * g.kh * g.kw : g.n * g.oh * g.ow;

/**
 * Time every possible path of each geometry and direction and keep the fastest per exact shape
 * and per bucket (summed over the bucket's shapes) in this adapter's table. Later conv2d calls
 * without a forced path use it.
 */
export async function autotuneConv(opts: ConvAutotuneOptions = {}): Promise<ConvTuneResult> {
  const g = gpu();
  const geoms = opts.geoms ?? DEFAULT_GEOMS();
  const dirs = opts.directions ?? CONV_DIRECTIONS;
  const reps = opts.reps ?? 2;
  const margin = opts.margin ?? 0.05;
  const allowed = (p: ConvPath) => (opts.paths ? opts.paths.includes(p) : !(g.info.isSoftware && (TILE_CONFIG_NAMES as string[]).includes(p)));
  for (const d of dirs) if (!CONV_DIRECTIONS.includes(d)) throw new OpError('autotuneConv', `unknown direction '${d}' (expected ${CONV_DIRECTIONS.join(', ')})`);
  const result: ConvTuneResult = { adapter: g.info.description, shapes: {}, buckets: {} };
  const perBucket = new Map<string, { dir: ConvDirection; dflt: ConvPath; entries: ConvTuneEntry[] }>();
  let seed = 1;
  for (const geom of geoms) {
    const x = tensor(tuneInput(geom.n * geom.cin * geom.h * geom.w, seed++), [geom.n, geom.cin, geom.h, geom.w]);
    const w = tensor(tuneInput(geom.cout * geom.cing * geom.kh * geom.kw, seed++), [geom.cout, geom.cing, geom.kh, geom.kw]);
    const b = tensor(tuneInput(geom.cout, seed++), [geom.cout]);
    const gy = tensor(tuneInput(geom.n * geom.cout * geom.oh * geom.ow, seed++), [geom.n, geom.cout, geom.oh, geom.ow]);
    const run: Record<ConvDirection, (p: ConvPath) => Tensor> = {
      fwd: (p) => conv2dForward(x, w, b, geom, 'relu', 'conv2d_forward', p),
      dgrad: (p) => conv2dInputGrad(gy, w, geom, p),
      wgrad: (p) => conv2dWeightGrad(gy, x, geom, p),
    };
    for (const dir of dirs) {
      if (structural(geom, dir)) continue;
      const paths = candidatePaths(geom, dir).filter(allowed);
      if (paths.length < 2) continue;
      const ms: Partial<Record<ConvPath, number>> = {};
      let ref: Float32Array | null = null;
      for (const p of paths) {
        try {
          const y = run[dir](p);
          const got = await y.read() as Float32Array;
          y.dispose();
          if (!ref) ref = got;
          else if (!closeEnough(got, ref, reduction(geom, dir))) {
            ms[p] = Infinity;
            continue;
          }
          let best = Infinity;
          for (let r = 0; r < reps; r++) {
            const t0 = performance.now();
            scope(() => { run[dir](p); });
            await g.sync();
            best = Math.min(best, performance.now() - t0);
          }
          ms[p] = best;
        } catch {
          ms[p] = Infinity;
        }
      }
      const dflt = defaultConvPath(geom, dir);
      const entry: ConvTuneEntry = { dir, key: convShapeKey(geom), ms, winner: pick(ms, paths, dflt, margin) };
      result.shapes[`${dir}|${entry.key}`] = entry;
      const bk = convBucket(geom, dir);
      if (!perBucket.has(bk)) perBucket.set(bk, { dir, dflt, entries: [] });
      perBucket.get(bk)!.entries.push(entry);
      opts.log?.(`autotune conv ${dir} ${entry.key} [${bk}]: ` + paths.map((p) => `${p} ${(ms[p] ?? Infinity).toFixed(2)} ms`).join(', ') + ` → ${entry.winner}`);
    }
    for (const t of [x, w, b, gy]) t.dispose();
  }
  // a bucket's winner: the least total time over its shapes, among the paths timed on all of them
  for (const [bk, { dir, dflt, entries }] of perBucket) {
    const paths = Object.keys(entries[0].ms).filter((p) => entries.every((e) => p in e.ms)) as ConvPath[];
    const ms: Partial<Record<ConvPath, number>> = {};
    for (const p of paths) ms[p] = entries.reduce((s, e) => s + (e.ms[p] ?? Infinity), 0);
    result.buckets[bk] = { dir, key: bk, ms, winner: pick(ms, paths, dflt, margin) };
  }
  storeConvTuning(result);
  return result;
}

/** The fastest path, the default keeping its place unless another beats it by `margin`. */
function pick(ms: Partial<Record<ConvPath, number>>, paths: ConvPath[], dflt: ConvPath, margin: number): ConvPath {
  const t = (p: ConvPath) => ms[p] ?? Infinity;
  let best: ConvPath | null = null;
  for (const p of paths) if (p !== dflt && Number.isFinite(t(p)) && (best === null || t(p) < t(best))) best = p;
  if (!paths.includes(dflt) || !Number.isFinite(t(dflt))) return best ?? paths[0];
  return best !== null && t(best) < t(dflt) * (1 - margin) ? best : dflt;
}

/**
 * The distinct convolution geometries `fn` runs (any direction), e.g. one training step of a
 * model, for autotuneConv({ geoms }). `fn` runs for real (its GPU work is submitted).
 */
export async function convShapesOf(fn: () => unknown): Promise<ConvGeom[]> {
  const seen = new Map<string, ConvGeom>();
  setConvRecorder((geom) => {
    const k = convShapeKey(geom);
    if (!seen.has(k)) seen.set(k, { ...geom });
  });
  try {
    await fn();
  } finally {
    setConvRecorder(null);
  }
  return [...seen.values()];
}
