// Evaluation: top-1 and top-5 of a model over a loader, in eval mode under noGrad, the sums
// kept on the GPU and read once; optionally every sample's predicted class (argmax on the GPU).
import { scope, keep, Tensor } from '../tensor/index.js';
import { argmax } from '../ops/reduce.js';
import { noGrad } from '../autograd/tape.js';
import { Loader } from '../data/loader.js';
import { Module } from '../nn/module.js';
import { MetricAccumulator } from './metrics.js';
import { runBatches } from './batches.js';

/**
 * Top-1/top-5 of `model` over `loader` (in eval mode). With `predictions`, also the predicted
 * class of every sample in loader order (argmax on the GPU, read back once at the end).
 */
export async function evaluate(
  model: Module,
  loader: Loader,
  acc?: MetricAccumulator,
  predictions?: number[],
): Promise<{ top1: number; top5: number; count: number; seconds: number }> {
  if (!acc) {
    // an accumulator of its own, freed here (not left to the garbage collector)
    const own = new MetricAccumulator();
    try {
      return await evaluate(model, loader, own, predictions);
    } finally {
      own.dispose();
    }
  }
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
