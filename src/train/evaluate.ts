// Evaluation: top-1 and top-5 of a model over a loader, in eval mode under noGrad, the sums
// kept on the GPU and read once; optionally every sample's predicted class (argmax on the GPU).
// And the check that a model file is worth evaluating at all: weights holding NaN or ±Inf (a
// run that diverged) would give a meaningless, plausible-looking accuracy, so the loader refuses
// them (checkFiniteWeights, called where a model is built from a file: train/load.ts).
import { scope, keep, Tensor } from '../tensor/index.js';
import { argmax } from '../ops/reduce.js';
import { noGrad } from '../autograd/tape.js';
import { Loader } from '../data/loader.js';
import { Module } from '../nn/module.js';
import { MetricAccumulator } from './metrics.js';
import { runBatches } from './batches.js';
import { DataError } from '../data/errors.js';
import type { HostTensor } from './safetensors.js';

/**
 * Refuse model weights holding NaN or ±Inf: a DataError naming the file, the first such tensor
 * (file order), its first bad element and value, and how many tensors are affected. `prefix`
 * selects the model's tensors of a training checkpoint ('model.'); integer tensors are skipped.
 */
export function checkFiniteWeights(file: string, tensors: Record<string, HostTensor>, prefix = ''): void {
  const bad: { key: string; index: number; value: number; count: number }[] = [];
  for (const [key, t] of Object.entries(tensors)) {
    if (!key.startsWith(prefix) || t.dtype !== 'f32') continue;
    const d = t.data;
    let first = -1;
    let count = 0;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v - v !== 0) {
        // NaN or ±Inf (v - v is NaN for both)
        if (first < 0) first = i;
        count++;
      }
    }
    if (first >= 0) bad.push({ key, index: first, value: d[first], count });
  }
  if (!bad.length) return;
  const b = bad[0];
  const more = bad.length > 1 ? ` (${bad.length} tensors hold non-finite values: ${bad.slice(1, 4).map((x) => x.key).join(', ')}${bad.length > 4 ? ', ...' : ''} too)` : '';
  throw new DataError(
    file,
    `tensor '${b.key}' holds ${b.value} at element ${b.index} (${b.count} non-finite value${b.count > 1 ? 's' : ''} in it)${more}: ` +
      'the model diverged when it was trained, so its predictions mean nothing; use an earlier checkpoint, or train again with a smaller --lr',
  );
}

/**
 * Top-1/top-5 of `model` over `loader` (in eval mode). With `predictions`, also the predicted
 * class of every sample in loader order (argmax on the GPU, read back once at the end).
 */
export async function evaluate(
  model: Module,
  loader: Loader,
  acc = new MetricAccumulator(),
  predictions?: number[],
): Promise<{ top1: number; top5: number; count: number; seconds: number }> {
  model.eval();
  acc.reset();
  loader.startEpoch(0, 0);
  const argmaxes: Tensor[] = [];
  const t = await runBatches(loader, (b) => {
    scope(() =>
      noGrad(() => {
        const z = model.forward(b.x);
        acc.add(z, b.y);
        if (predictions) argmaxes.push(keep(argmax(z, -1)));
      }),
    );
  });
  const m = await acc.read();
  // all readbacks in flight at once (one submit, one wait)
  const parts = await Promise.all(argmaxes.map((a) => a.read()));
  for (const part of parts) for (const v of part) predictions!.push(v);
  for (const a of argmaxes) a.dispose();
  return { top1: m.top1, top5: m.top5, count: m.count, seconds: t.seconds };
}
