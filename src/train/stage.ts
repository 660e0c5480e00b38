// The training loop of one stage (the baseline with cross-entropy, or stage 2 with its loss
// next to the frozen baseline). Every step runs inside scope() and reads nothing back; loss
// and accuracy are summed on the GPU and read every `logEvery` steps (progress, and the
// divergence guard: the loss, and every parameter scanned for NaN/±Inf on the GPU in the same
// readback) and at the end of the epoch. The learning rate of each step comes from the step schedule
// (src/optim/schedule.ts: the per-epoch schedule with the linear warm-up on top). After every
// epoch: evaluation (top-1, top-5), a metrics.jsonl line and an atomic checkpoint.
import { hostFiles, join } from '../platform/files.js';
import { FocusnetError } from '../errors.js';
import { scope, shapeStr } from '../tensor/index.js';
import { noGrad } from '../autograd/tape.js';
import { SGD } from '../optim/sgd.js';
import { autocast } from '../ops/cast.js';
import { GradScaler, type GradScalerStats } from '../amp/scaler.js';
import { namedSchedule, perStep, linearWarmup, warmupStepsFor } from '../optim/schedule.js';
import { checkLabels } from '../losses/common.js';
import { Module } from '../nn/module.js';
import { LossName, crossEntropy, stageTwoLoss } from './objective.js';
import { MetricSums } from './metrics.js';
import { runBatches, LoopTiming } from './batches.js';
import { RunContext, makeLoader } from './context.js';
import { Loader } from '../data/loader.js';
import type { Split } from '../data/split.js';
import { EpochRecord } from './options.js';
import { evaluate } from './evaluate.js';
import { saveCheckpoint, restoreOptimizer, restoreRandomState, CheckpointFile } from './checkpoint.js';
import { loadInto } from './load.js';

/** Training stopped because the loss or a parameter became NaN or infinite. */
export class DivergedError extends FocusnetError {
  constructor(message: string) {
    super(message);
    this.name = 'DivergedError';
  }
}

/** Stopped on purpose by `stopAfterEpochs` (tests of --resume). */
export class StoppedError extends FocusnetError {
  constructor(message: string) {
    super(message);
    this.name = 'StoppedError';
  }
}

export interface StageSpec {
  /** 'baseline' or the stage-2 name */
  name: string;
  stageNum: number;
  model: Module;
  arch: string;
  epochs: number;
  /** the frozen baseline whose logits the loss takes (stage 2 of focus and kd) */
  teacher: Module | null;
  loss: LossName | 'baseline';
  ckptPath: string;
  /** the stage's checkpoint, when resuming it */
  resumeFrom: CheckpointFile | null;
}

/**
 * The training split seen in whole batches of `batch` images: images n, n+1, … wrap around to
 * 0, 1, …, so that the cache pass below runs the baseline at exactly the training batch size.
 */
class WholeBatches implements Split {
  readonly n: number;
  readonly labels: Int32Array;
  constructor(private readonly base: Split, batch: number) {
    this.n = Math.ceil(base.n / batch) * batch;
    this.labels = Int32Array.from({ length: this.n }, (_, i) => base.labels[i % base.n]);
  }
  get c(): number { return this.base.c; }
  get h(): number { return this.base.h; }
  get w(): number { return this.base.w; }
  get source(): string { return this.base.source; }
  readImage(i: number, dst: Uint8Array, offset: number): void {
    this.base.readImage(i % this.base.n, dst, offset);
  }
}

/**
 * Baseline logits for every training image (in dataset order), for --cache-baseline. They are
 * computed in batches of the training batch size (the last one filled up from the start):
 * kernels are chosen by shape, and another batch size can round differently, so only this
 * gives bit for bit the logits the baseline's forward pass gives inside a training step.
 */
async function baselineLogits(ctx: RunContext, baseline: Module): Promise<Float32Array> {
  baseline.eval();
  const n = ctx.ds.numClasses;
  const images = ctx.train.n;
  // a training epoch's batches: full ones of batchSize, or one of all images when fewer
  const batch = Math.min(ctx.o.batchSize, images);
  const loader = new Loader(new WholeBatches(ctx.train, batch), { batchSize: batch, shuffle: false, norm: ctx.norm });
  loader.startEpoch(0, 0);
  const out = new Float32Array(images * n);
  const pending: Promise<void>[] = [];
  await runBatches(loader, (b) => {
    const z = scope(() => noGrad(() => baseline.forward(b.x)));
    const idx = b.host.indices;
    pending.push(
      z.read().then((v) => {
        for (let i = 0; i < idx.length; i++) if (idx[i] < images) out.set(v.subarray(i * n, (i + 1) * n), idx[i] * n);
        z.dispose();
      }),
    );
  });
  await Promise.all(pending);
  return out;
}

/** The cached baseline logits when --cache-baseline applies (not for augmented data), else null. */
async function logitCache(ctx: RunContext, teacher: Module): Promise<{ logits: Float32Array; classes: number } | null> {
  if (!ctx.o.cacheBaseline) return null;
  if (ctx.augment) {
    ctx.log(`note: --cache-baseline ignored: the training split is augmented (random crop/flip), so the baseline's logits change every epoch`);
    return null;
  }
  const t0 = performance.now();
  const cache = { logits: await baselineLogits(ctx, teacher), classes: ctx.ds.numClasses };
  ctx.log(`cached the baseline's logits for ${ctx.train.n} training images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return cache;
}

/** Train one stage (from its checkpoint when resuming); returns its final test top-1/top-5 and its seconds. */
export async function runStage(ctx: RunContext, s: StageSpec): Promise<{ top1: number; top5: number; seconds: number }> {
  const { o } = ctx;
  let startEpoch = 0;
  if (s.resumeFrom) {
    loadInto(s.model, s.resumeFrom.tensors, s.resumeFrom.prefix, s.resumeFrom.path, s.arch);
    restoreRandomState(s.resumeFrom, s.model);
    startEpoch = s.resumeFrom.info.epoch ?? 0;
  }
  const opt = new SGD(s.model.parameters(), { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  ctx.owned.push(opt); // disposed when train() ends
  // --precision mixed: the forward (and the frozen baseline's) under autocast, the loss scaled
  // and overflowed steps skipped on the GPU; the scaler's state is read with the metrics
  const mixed = o.precision === 'mixed';
  const scaler = mixed ? new GradScaler(o.gradScaler) : null;
  if (scaler) ctx.owned.push(scaler);
  let scalerAt = null as GradScalerStats | null;
  if (s.resumeFrom) restoreOptimizer(s.resumeFrom, opt);
  const sched = namedSchedule(o.schedule, o.lr, s.epochs, { milestones: o.milestones, gamma: o.gamma });
  const trainLoader = makeLoader(ctx, ctx.train, true);
  const testLoader = makeLoader(ctx, ctx.test, false);
  // step t of the stage (counted from epoch 0, so resume is exact); warm-up lr·(t+1)/warmupSteps
  const warmup = warmupStepsFor(o.warmupSteps, trainLoader.batchCount);
  const lrAt = linearWarmup(perStep(sched, trainLoader.batchCount), warmup);
  if (warmup > 0 && startEpoch === 0) ctx.log(`${s.name}: lr warm-up over the first ${warmup} of ${trainLoader.batchCount * s.epochs} steps${o.warmupSteps === 'auto' ? ' (--warmup-steps auto)' : ''}`);
  if (s.teacher) s.teacher.eval();
  const cache = s.teacher ? await logitCache(ctx, s.teacher) : null;
  let last = { top1: NaN, top5: NaN };
  let seconds = ctx.history.filter((h) => h.stage === s.name).reduce((a, h) => a + h.seconds, 0);
  for (let epoch = startEpoch; epoch < s.epochs; epoch++) {
    const t0 = performance.now();
    const lr = sched(epoch);
    opt.lr = lr;
    s.model.train();
    trainLoader.startEpoch(s.stageNum, epoch);
    ctx.acc.reset();
    ctx.progress.start(`${s.name} ${epoch + 1}/${s.epochs}`, trainLoader.batchCount);
    let timing: LoopTiming;
    let stepInEpoch = 0;
    // the check after the last step already reads the epoch's sums: reuse them
    let lastCheck = null as MetricSums | null;
    const skippedBefore = scaler ? (scalerAt ?? (await scaler.stats())).skippedSteps : 0;
    try {
      timing = await runBatches(
        trainLoader,
        (b) => {
          opt.lr = lrAt(epoch * trainLoader.batchCount + stepInEpoch++);
          scope(() => {
            const forward = () => {
              const zb = s.teacher ? (b.zb ?? noGrad(() => s.teacher!.forward(b.x))) : null;
              const z = s.model.forward(b.x);
              const loss = s.loss === 'baseline' ? crossEntropy(z, b.y) : stageTwoLoss(s.loss, z, zb, b.y, o.objective);
              return { z, loss };
            };
            const { z, loss } = mixed ? autocast(forward) : forward();
            opt.zeroGrad();
            if (scaler) {
              scaler.scale(loss).backward();
              scaler.step(opt);
              scaler.update();
            } else {
              loss.backward();
              opt.step();
            }
            ctx.acc.add(z, b.y, loss);
          });
        },
        {
          cache,
          every: o.logEvery ?? 50,
          check: async (k, t) => {
            // the parameter scan and the scaler's stats are dispatched before the metrics' readback: all come back in one wait
            const scan = opt.firstNonFinite();
            const [m, bad, sc] = await Promise.all([ctx.acc.read(), scan, scaler ? scaler.stats() : null]);
            if (sc) scalerAt = sc;
            lastCheck = k === trainLoader.batchCount - 1 ? m : null;
            if (!Number.isFinite(m.lossSum) || bad) {
              ctx.progress.stop();
              await checkLabels(); // a label the loss kernels found out of range explains a NaN loss (throws naming it)
              const prev = epoch > 0 || hostFiles('train.train').exists(s.ckptPath) ? `The last good checkpoint (${s.name} epoch ${epoch}) is kept at ${s.ckptPath}` : 'No checkpoint of this stage was written yet';
              const what = [
                Number.isFinite(m.lossSum) ? '' : `the loss became ${m.lossSum} (not finite)`,
                bad ? `parameter '${bad.name}' ${shapeStr(bad.shape)} holds ${bad.value} at element ${bad.index}${Number.isFinite(m.lossSum) ? ' (the loss is still finite)' : ''}` : '',
              ].filter(Boolean).join(' and ');
              throw new DivergedError(`${s.name} epoch ${epoch + 1}, by step ${k + 1}: ${what}; training stopped. ${prev}. Try a smaller --lr.`);
            }
            ctx.progress.update({ done: k + 1, loss: m.loss, imagesPerS: t.images / Math.max(1e-9, t.seconds) });
          },
        },
      );
    } finally {
      ctx.progress.stop();
    }
    const tr = lastCheck ?? (await ctx.acc.read());
    const finalEpoch = epoch === s.epochs - 1;
    const preds: number[] | undefined = finalEpoch ? [] : undefined;
    const ev = await evaluate(s.model, testLoader, ctx.acc, preds);
    if (preds) ctx.predictions[s.stageNum === 1 ? 'baseline' : 'stage2'] = preds;
    const sec = (performance.now() - t0) / 1000;
    seconds += sec;
    const rec: EpochRecord = {
      stage: s.name,
      epoch: epoch + 1,
      loss: tr.loss,
      train_acc: tr.top1,
      test_top1: ev.top1,
      test_top5: ev.top5,
      lr,
      images_per_s: timing.images / timing.seconds,
      seconds: sec,
      train_seconds: timing.seconds,
      data_ms_per_step: timing.dataMs / timing.steps,
      encode_ms_per_step: timing.encodeMs / timing.steps,
      gpu_wait_ms_per_step: timing.waitMs / timing.steps,
    };
    if (s.teacher) rec.cached_baseline = !!cache;
    if (scaler) {
      scalerAt = await scaler.stats();
      rec.loss_scale = scalerAt.scale;
      rec.skipped_steps = scalerAt.skippedSteps - skippedBefore;
    }
    ctx.history.push(rec);
    await saveCheckpoint(s.ckptPath, s.model, opt, { stage: s.name, stageNum: s.stageNum, arch: s.arch, epoch: epoch + 1, seed: o.seed, config: ctx.config, data: ctx.data, history: ctx.history, norm: ctx.norm });
    hostFiles('train.train').append(join(o.out, 'metrics.jsonl'), JSON.stringify(rec) + '\n');
    ctx.log(
      `${s.name} epoch ${epoch + 1}/${s.epochs}: loss ${tr.loss.toFixed(4)}  train ${tr.top1.toFixed(2)}%  test top-1 ${ev.top1.toFixed(2)}%  top-5 ${ev.top5.toFixed(2)}%  ` +
        `lr ${lr.toPrecision(3)}  ${scaler ? `loss scale ${rec.loss_scale} (${rec.skipped_steps} steps skipped)  ` : ''}${rec.images_per_s.toFixed(0)} img/s  ${sec.toFixed(1)} s (train ${timing.seconds.toFixed(1)} s; per step: data ${rec.data_ms_per_step.toFixed(2)} ms, encode ${rec.encode_ms_per_step.toFixed(2)} ms, GPU wait ${rec.gpu_wait_ms_per_step.toFixed(2)} ms)`,
    );
    last = { top1: ev.top1, top5: ev.top5 };
    ctx.epochsDone++;
    await o.onCheckpoint?.({ stage: s.name, epoch: epoch + 1, path: s.ckptPath });
    if (o.stopAfterEpochs !== undefined && ctx.epochsDone >= o.stopAfterEpochs) {
      throw new StoppedError(`stopped after ${ctx.epochsDone} epochs (stopAfterEpochs)`);
    }
  }
  if (startEpoch >= s.epochs) {
    // resumed a finished stage: its numbers are in the history
    const h = ctx.history.filter((r) => r.stage === s.name).pop();
    if (h) last = { top1: h.test_top1, top5: h.test_top5 };
  }
  // the optimizer stays until train() ends (ctx.owned): it owns the parameter arena (a stage-1
  // model goes on as the frozen baseline)
  return { ...last, seconds };
}
