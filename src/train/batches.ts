// The prefetching batch loop. While the GPU runs step k, the CPU prepares batch
// k+1 (decoding, augmentation, normalisation) and uploads it; up to two steps
// are in flight, so the CPU also encodes step k+1 while the GPU finishes step k.
//
// How the overlap is measured: per step, `dataMs` is CPU time spent preparing
// and uploading the next batch, `encodeMs` the time spent encoding the step's
// dispatches, and `waitMs` the time the CPU then blocks waiting for the GPU to
// finish the previous step. In steady state waitMs > 0 means the GPU, not the
// data, is the bottleneck (the next batch was ready before the GPU needed it).
import { gpu } from '../gpu/index.js';
import { Tensor, tensor } from '../tensor/index.js';
import { Loader, HostBatch } from '../data/loader.js';

export interface DeviceBatch {
  x: Tensor;
  y: Tensor;
  /** cached baseline logits for this batch, when a cache is in use */
  zb: Tensor | null;
  size: number;
  host: HostBatch;
}

export interface LoopTiming {
  steps: number;
  images: number;
  seconds: number;
  dataMs: number;
  encodeMs: number;
  waitMs: number;
}

export interface LoopOptions {
  /** called every `every` steps and after the last one, after the GPU has caught up */
  check?: (k: number, timing: LoopTiming) => Promise<void>;
  every?: number;
  /** baseline logits per training image [n × classes] (the logit cache) */
  cache?: { logits: Float32Array; classes: number } | null;
  /**
   * 'prefetch' (default): prepare batch k+1 while the GPU runs step k, two steps in flight.
   * 'serial': wait for the GPU after every step, then prepare the next batch (no overlap).
   * 'static': reuse batch 0's host data for every step (no data cost at all; benchmarks only).
   */
  mode?: 'prefetch' | 'serial' | 'static';
}

function upload(h: HostBatch, shape: number[], cache: LoopOptions['cache']): DeviceBatch {
  const x = tensor(h.x, [h.size, ...shape]);
  const y = tensor(h.y, [h.size], { dtype: 'i32' });
  let zb: Tensor | null = null;
  if (cache) {
    const n = cache.classes;
    const rows = new Float32Array(h.size * n);
    for (let b = 0; b < h.size; b++) rows.set(cache.logits.subarray(h.indices[b] * n, (h.indices[b] + 1) * n), b * n);
    zb = tensor(rows, [h.size, n]);
  }
  return { x, y, zb, size: h.size, host: h };
}

/** Run `step` over every batch of the loader's current epoch, prefetching the next batch. */
export async function runBatches(loader: Loader, step: (b: DeviceBatch, k: number) => void, o: LoopOptions = {}): Promise<LoopTiming> {
  const g = gpu();
  const K = loader.batchCount;
  const { c, h, w } = loader.split;
  const shape = [c, h, w];
  const t: LoopTiming = { steps: 0, images: 0, seconds: 0, dataMs: 0, encodeMs: 0, waitMs: 0 };
  const start = performance.now();
  let t0 = performance.now();
  let next: DeviceBatch | null = K > 0 ? upload(loader.batch(0), shape, o.cache) : null;
  t.dataMs += performance.now() - t0;
  let prevDone: Promise<unknown> | null = null;
  const every = o.every ?? 50;
  try {
    for (let k = 0; k < K; k++) {
      const cur = next!;
      next = null;
      t0 = performance.now();
      try {
        step(cur, k);
      } finally {
        cur.x.dispose();
        cur.y.dispose();
        cur.zb?.dispose();
      }
      g.flush();
      const done = g.device.queue.onSubmittedWorkDone();
      const t1 = performance.now();
      t.encodeMs += t1 - t0;
      const mode = o.mode ?? 'prefetch';
      if (mode === 'serial') {
        await done;
        const t2 = performance.now();
        t.waitMs += t2 - t1;
        if (k + 1 < K) next = upload(loader.batch(k + 1), shape, o.cache);
        t.dataMs += performance.now() - t2;
      } else {
        if (k + 1 < K) next = upload(mode === 'static' ? cur.host : loader.batch(k + 1), shape, o.cache);
        const t2 = performance.now();
        t.dataMs += t2 - t1;
        if (prevDone) await prevDone;
        t.waitMs += performance.now() - t2;
        prevDone = done;
      }
      t.steps++;
      t.images += cur.size;
      if (o.check && ((k + 1) % every === 0 || k === K - 1)) {
        t.seconds = (performance.now() - start) / 1000;
        await o.check(k, t);
      }
    }
    if (prevDone) await prevDone;
  } finally {
    if (next) {
      next.x.dispose();
      next.y.dispose();
      next.zb?.dispose();
    }
  }
  t.seconds = (performance.now() - start) / 1000;
  return t;
}
