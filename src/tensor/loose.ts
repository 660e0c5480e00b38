// Loose tensors: GPU bytes held by tensors that no scope owns and that are not kept (created
// outside any scope(), or returned from the outermost one), i.e. what careless code may drop
// without dispose(). Such a tensor gives its storage back only when the garbage collector finds
// it (tensor.ts's FinalizationRegistry), and V8 collects by the size of its JavaScript heap: it
// knows nothing of GPU buffers, so a loop whose steps leave little JavaScript garbage and much
// GPU garbage (a bigger batch, a bigger model) would hold hundreds of steps of GPU memory between
// two collections. So once loose bytes have grown by COLLECT_EVERY since their low point, the
// engine asks the host for a full collection (`platform().collectGarbage`: V8's gc in Node;
// absent in a page, which keeps the browser's own schedule), and asks again only after a
// finalizer has run (the event loop turned): a loop that never yields reclaims nothing this way,
// and repeating the collection there would only cost time. GPU memory of code that drops its
// tensors and awaits every few steps then stays within about COLLECT_EVERY plus the steps between
// two awaits; code inside scope() never gets here (its tensors are owned).

import { platform } from '../platform/platform.js';

/** Loose bytes of growth (since their low point) that trigger a collection (FOCUSNET_COLLECT_MB overrides; 0: never). */
export const COLLECT_EVERY = 64 * 1024 * 1024;
let collectEvery: number | null = null;
function threshold(): number {
  if (collectEvery === null) {
    const env = platform().env('FOCUSNET_COLLECT_MB');
    const mb = env === undefined ? NaN : Number(env);
    collectEvery = Number.isFinite(mb) && mb >= 0 ? (mb === 0 ? Infinity : mb * 1024 * 1024) : COLLECT_EVERY;
  }
  return collectEvery;
}

const loose = {
  /** bytes of live loose tensors */
  bytes: 0,
  /** the lowest `bytes` since the last collection was asked for */
  low: 0,
  /** a collection was asked for and no finalizer has run since */
  pending: false,
  /** collections asked for (statistics, tests) */
  collections: 0,
};

/** What a tensor counts here: its storage's bytes while it is loose, else 0. */
export interface LooseMark {
  loose: number;
}

/** A tensor became loose (created outside any scope, or returned from the outermost one). */
export function markLoose(m: LooseMark, bytes: number): void {
  if (m.loose || !bytes) return;
  m.loose = bytes;
  loose.bytes += bytes;
  if (!loose.pending && loose.bytes - loose.low > threshold()) {
    const collect = platform().collectGarbage;
    if (!collect) return;
    loose.pending = true;
    loose.collections++;
    loose.low = loose.bytes;
    collect();
  }
}

/** A loose tensor was disposed, kept, moved into a scope, or collected. */
export function unmarkLoose(m: LooseMark): void {
  if (!m.loose) return;
  loose.bytes -= m.loose;
  m.loose = 0;
  if (loose.bytes < loose.low) loose.low = loose.bytes;
}

/** A finalizer ran: the event loop turned since the last collection, another may be asked for. */
export function finalizerRan(): void {
  loose.pending = false;
}

/** Bytes of live loose tensors and collections asked for so far. */
export function looseStats(): { bytes: number; collections: number } {
  return { bytes: loose.bytes, collections: loose.collections };
}

/**
 * Let tensors dropped without dispose() go now: a full collection where the host offers one, then
 * two turns of the event loop so their finalizers run, then a submit so their buffers are
 * reusable. For tests and measurements that count buffers and must not see earlier code's
 * garbage come back half-way (a page has no explicit collection: there it only waits).
 */
export async function settleGarbage(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    platform().collectGarbage?.();
    await new Promise((r) => setTimeout(r, 0));
  }
}
