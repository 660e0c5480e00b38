// FocusNet's two stages in the page, built from the library's pieces as the trainer builds
// them (src/train/stage.ts): the registry's LeNet-5 (train.createModel), SGD with momentum and
// weight decay, a linear warm-up (optim.linearWarmup), the prefetching batch loop
// (train.runBatches), loss and accuracy summed on the GPU (train.MetricAccumulator, read every
// few steps for the live charts), and evaluation (train.evaluate) after every epoch. Stage 1 is
// the baseline with cross-entropy; stage 2 a fresh network with the focus-picking loss next to
// the frozen baseline. The models become the trainer's model files (train.encodeModelFile).
import { Stopped } from './predict.mjs';

export const ARCH = 'lenet5';
export const MOMENTUM = 0.9;
export const WEIGHT_DECAY = 1e-4;
/** Warm-up over the first fifth of a stage's steps, at most the CLI's 300. */
export const warmupSteps = (steps) => Math.min(300, Math.floor(steps / 5));

/** SGD for a model (it owns the model's parameters from now on: dispose it after the model). */
export function optimizerFor(fn, model, lr) {
  return new fn.optim.SGD(model.parameters(), { lr, momentum: MOMENTUM, weightDecay: WEIGHT_DECAY });
}

/**
 * Train one stage with `opt` (optimizerFor). `teacher` null: cross-entropy (the baseline); else the focus-picking loss
 * with the frozen teacher's logits. Calls `onCheck({ epoch, step, steps, x, loss, acc,
 * imagesPerS })` every few steps (x in epochs, loss and accuracy over the steps since the last
 * check) and `onEpoch(record)` after each epoch's evaluation. `shouldStop()` is asked before
 * every step (Stopped is thrown).
 */
export async function trainStage(fn, o) {
  const { data, train, optim, losses, scope, noGrad } = fn;
  const { model, opt, teacher, trainSplit, testSplit, norm, epochs, batchSize, lr, stageNum, seed = 1, onCheck, onEpoch, shouldStop } = o;
  const loader = new data.Loader(trainSplit, { batchSize, shuffle: true, dropLast: true, norm, seed });
  const testLoader = new data.Loader(testSplit, { batchSize: 256, shuffle: false, norm });
  const K = loader.batchCount;
  const lrAt = optim.linearWarmup(optim.perStep(optim.constant(lr), K), warmupSteps(K * epochs));
  const every = Math.max(1, Math.min(10, Math.round(K / 25)));
  const acc = new train.MetricAccumulator();
  const evalAcc = new train.MetricAccumulator();
  let step = 0;
  teacher?.eval();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const t0 = performance.now();
      model.train();
      loader.startEpoch(stageNum, epoch);
      acc.reset();
      let last = { l: 0, c1: 0, n: 0 };
      let sums = null;
      const timing = await train.runBatches(loader, (b) => {
        if (shouldStop()) throw new Stopped();
        opt.lr = lrAt(step++);
        scope(() => {
          const zb = teacher ? noGrad(() => teacher.forward(b.x)) : null;
          const z = model.forward(b.x);
          const loss = zb ? losses.focusPicking(z, zb, b.y) : losses.crossEntropy(z, b.y);
          opt.zeroGrad();
          loss.backward();
          opt.step();
          acc.add(z, b.y, loss);
        });
      }, {
        every,
        check: async (k, t) => {
          sums = await acc.read();
          if (!Number.isFinite(sums.lossSum)) {
            throw new train.DivergedError(`${teacher ? 'FocusNet' : 'baseline'} epoch ${epoch + 1}, by step ${k + 1}: the loss became ${sums.lossSum} (not finite); training stopped. Try a smaller learning rate.`);
          }
          const now = { l: sums.lossSum, c1: (sums.top1 * sums.count) / 100, n: sums.count };
          const dn = now.n - last.n;
          onCheck({ epoch, step: k + 1, steps: K, x: epoch + (k + 1) / K, loss: (now.l - last.l) / dn, acc: (100 * (now.c1 - last.c1)) / dn, imagesPerS: t.images / Math.max(1e-9, t.seconds) });
          last = now;
        },
      });
      const ev = await train.evaluate(model, testLoader, evalAcc);
      onEpoch({ epoch: epoch + 1, loss: sums.loss, trainAcc: sums.top1, top1: ev.top1, top5: ev.top5, imagesPerS: timing.images / timing.seconds, seconds: (performance.now() - t0) / 1000 });
    }
  } finally {
    acc.dispose();
    evalAcc.dispose();
  }
}

/** A trained model as the trainer's model file (bytes `focusnet eval` reads). */
export function modelFile(fn, model, { stage, numClasses, split, norm }) {
  return fn.train.encodeModelFile(model, fn.train.modelMetadata({ arch: ARCH, stage, numClasses, inChannels: split.c, imageSize: split.h, norm }));
}
