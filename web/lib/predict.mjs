// Predictions in the page: every test image's predicted class for a model (argmax on the GPU,
// read back every few batches so the page can show progress), and the two models'
// disagreements. The loop is the library's prefetching batch loop (train.runBatches).

/** Thrown out of a loop when the visitor pressed Stop. */
export class Stopped extends Error {
  constructor() {
    super('stopped');
    this.name = 'Stopped';
  }
}

/**
 * The predicted class of each image of `split` under `m.model`, inputs normalised with `norm`.
 * `onProgress(done)` after every few batches; `shouldStop()` is asked before each batch.
 */
export async function predictSplit(fn, model, split, norm, { onProgress, shouldStop, batchSize = 200 } = {}) {
  const { data, train, scope, noGrad, ops } = fn;
  const loader = new data.Loader(split, { batchSize, shuffle: false, norm });
  loader.startEpoch(0, 0);
  model.eval();
  const out = new Int32Array(split.n);
  let pending = [];
  let done = 0;
  const drain = async () => {
    const parts = pending;
    pending = [];
    const values = await Promise.all(parts.map((p) => p.t.read())); // one submit, one wait
    parts.forEach((p, i) => {
      out.set(values[i], p.start);
      done += values[i].length;
      p.t.dispose();
    });
    onProgress?.(done);
  };
  try {
    await train.runBatches(loader, (b, k) => {
      if (shouldStop?.()) throw new Stopped();
      pending.push({ t: scope(() => noGrad(() => ops.argmax(model.forward(b.x), -1))), start: k * batchSize });
    }, { every: 4, check: drain });
  } finally {
    for (const p of pending) p.t.dispose();
  }
  return out;
}

/** Indices where the two models' predictions differ, with the label and both predictions. */
export function disagreements(labels, baseline, focusnet) {
  const out = [];
  for (let i = 0; i < baseline.length; i++) {
    if (baseline[i] !== focusnet[i]) out.push({ index: i, label: labels[i], baseline: baseline[i], focusnet: focusnet[i] });
  }
  return out;
}

/** Which model is right on a disagreement: 'focusnet', 'baseline' or 'neither'. */
export const whoIsRight = (d) => (d.focusnet === d.label ? 'focusnet' : d.baseline === d.label ? 'baseline' : 'neither');

/** Percent of `preds` equal to `labels` (the first preds.length labels). */
export function accuracy(labels, preds) {
  let hit = 0;
  for (let i = 0; i < preds.length; i++) if (preds[i] === labels[i]) hit++;
  return preds.length ? (100 * hit) / preds.length : 0;
}
