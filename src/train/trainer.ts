// The two-stage trainer.
//   Stage 1: the baseline, trained with cross-entropy (skipped when --baseline
//            gives a checkpoint, or when the stage-2 loss needs no baseline).
//   Stage 2: FocusNet (or a comparison method: ce, ls, kd), trained from scratch
//            with the frozen baseline in eval mode under noGrad, fed the same batch.
// Every step runs inside scope() and reads nothing back; loss and accuracy
// are summed on the GPU and read every `logEvery` steps (progress, NaN check)
// and at the end of the epoch. After every epoch: evaluation (top-1, top-5), a
// metrics.jsonl line and an atomic checkpoint (model, momentum, epoch, RNG).
import { existsSync, mkdirSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gpu } from '../gpu/index.js';
import { FocusnetError } from '../errors.js';
import { scope, keep, Tensor } from '../tensor/index.js';
import { argmax } from '../ops/reduce.js';
import { noGrad } from '../autograd/tape.js';
import { SGD } from '../optim/sgd.js';
import { multiStep, cosine, constant, Schedule } from '../optim/schedule.js';
import { loadDataset, Dataset, LoadOptions } from '../data/dataset.js';
import { SubsetSplit, Split, checkSplitLabels } from '../data/split.js';
import { Loader, channelStats, Normalization } from '../data/loader.js';
import { deriveSeed } from '../util/rng.js';
import { DataError } from '../data/errors.js';
import { checkLabels } from '../losses/common.js';
import { createModel } from './arch.js';
import { Module } from '../nn/module.js';
import { LossName, ObjectiveOptions, crossEntropy, stageTwoLoss, needsBaseline } from './objective.js';
import { MetricAccumulator, MetricSums } from './metrics.js';
import { runBatches, LoopTiming } from './batches.js';
import { Progress, ProgressMode } from './progress.js';
import { encodeSafetensors, readSafetensorsFile, toDevice, toHost, writeFileAtomic, HostTensor } from './safetensors.js';

export interface TrainOptions extends LoadOptions {
  data: string;
  arch: string;
  baselineArch?: string;
  /** a baseline checkpoint: skips stage 1 */
  baseline?: string;
  epochs: number;
  baselineEpochs?: number;
  batchSize: number;
  evalBatchSize?: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: 'multistep' | 'cosine' | 'constant';
  milestones?: number[];
  gamma?: number;
  /** linear learning-rate warm-up over the first N steps of each stage (0: none) */
  warmupSteps?: number;
  seed: number;
  loss: LossName;
  objective: ObjectiveOptions;
  out: string;
  resume?: boolean;
  cacheBaseline?: boolean;
  /** random crop + flip; default: the data set's own default (off for IDX) */
  augment?: boolean;
  norm?: Normalization;
  /** use only the first N training / test images */
  trainLimit?: number;
  testLimit?: number;
  progress?: ProgressMode;
  /** steps between GPU readbacks (progress, NaN check) */
  logEvery?: number;
  /** stdout lines (epoch summaries, the table) */
  log?: (line: string) => void;
  /** testing aid: stop (as if killed) after this many epochs in total have been checkpointed */
  stopAfterEpochs?: number;
}

export interface EpochRecord {
  stage: string;
  epoch: number;
  loss: number;
  train_acc: number;
  test_top1: number;
  test_top5: number;
  lr: number;
  images_per_s: number;
  seconds: number;
  train_seconds: number;
  data_ms_per_step: number;
  encode_ms_per_step: number;
  gpu_wait_ms_per_step: number;
  cached_baseline?: boolean;
}

export interface Summary {
  baseline?: { top1: number; top5: number };
  focusnet?: { top1: number; top5: number };
  [k: string]: unknown;
}

/** Training stopped because the loss became NaN or infinite. */
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

interface Ctx {
  o: TrainOptions;
  ds: Dataset;
  train: Split;
  test: Split;
  norm: Normalization;
  augment: boolean;
  acc: MetricAccumulator;
  progress: Progress;
  log: (s: string) => void;
  history: EpochRecord[];
  epochsDone: number;
  stage2Name: string;
  /** test-split predictions of each stage's final model, for predictions.json */
  predictions: { baseline?: number[]; stage2?: number[] };
}

const STAGE_NUM = { baseline: 1, stage2: 2 } as const;

export function stageTwoName(loss: LossName): string {
  return loss === 'focus' ? 'focusnet' : loss;
}

function schedule(o: TrainOptions, epochs: number): Schedule {
  if (o.schedule === 'cosine') return cosine(o.lr, epochs);
  if (o.schedule === 'constant') return constant(o.lr);
  const ms = o.milestones ?? [Math.ceil(epochs / 2), Math.ceil((3 * epochs) / 4)].filter((m, i, a) => m > 0 && m < epochs && a.indexOf(m) === i);
  return multiStep(o.lr, ms, o.gamma ?? 0.1);
}

function archOptions(ctx: Ctx, seed: number) {
  return { numClasses: ctx.ds.numClasses, inChannels: ctx.train.c, imageSize: ctx.train.h, seed };
}

function buildModel(ctx: Ctx, arch: string, stage: number): Module {
  const seed = deriveSeed(ctx.o.seed, stage, 0x1417);
  // seeded initial weights: a seed fixes the whole run
  return createModel(arch, archOptions(ctx, seed));
}

/** Load host tensors (optionally under a key prefix) into a model. */
export function loadInto(model: Module, host: Record<string, HostTensor>, prefix = '', file = 'checkpoint'): void {
  const sel: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(host)) if (k.startsWith(prefix)) sel[k.slice(prefix.length)] = v;
  const own = model.stateDict();
  for (const k of Object.keys(own)) {
    if (!sel[k]) throw new DataError(file, `has no tensor '${prefix}${k}' (wrong --arch or --baseline-arch?)`);
    if (sel[k].shape.join() !== own[k].shape.join()) throw new DataError(file, `tensor '${prefix}${k}' has shape [${sel[k].shape}], the model expects [${own[k].shape}] (wrong --arch or class count?)`);
  }
  const dev = toDevice(Object.fromEntries(Object.keys(own).map((k) => [k, sel[k]])));
  model.loadStateDict(dev); // copies into the model's own tensors
  for (const t of Object.values(dev)) t.dispose();
}

async function saveModelFile(path: string, model: Module, meta: Record<string, string>): Promise<void> {
  const host = await toHost(model.stateDict());
  writeFileAtomic(path, encodeSafetensors(host, meta));
}

async function saveCheckpoint(ctx: Ctx, path: string, stage: string, epoch: number, model: Module, opt: SGD, arch: string): Promise<void> {
  const host = await toHost(model.stateDict());
  const tensors: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(host)) tensors[`model.${k}`] = v;
  const os = await opt.stateDict();
  os.momentum.forEach((m, i) => (tensors[`optim.momentum.${i}`] = { dtype: 'f32', fileDtype: 'F32', shape: [m.length], data: m }));
  const meta = {
    format: 'focusnet-checkpoint',
    stage,
    arch,
    epoch: String(epoch),
    optim_step: String(os.step),
    // every epoch's data order and augmentation derive from (seed, stage, epoch): that is the RNG state
    rng: JSON.stringify({ seed: ctx.o.seed, stage: STAGE_NUM[stage === 'baseline' ? 'baseline' : 'stage2'], next_epoch: epoch }),
    // the model's own random draws (dropout masks) so far
    random_state: JSON.stringify(model.randomState()),
    config: JSON.stringify(configKey(ctx.o)),
    history: JSON.stringify(ctx.history),
    norm: JSON.stringify(ctx.norm),
  };
  writeFileAtomic(path, encodeSafetensors(tensors, meta));
}

function configKey(o: TrainOptions) {
  return { arch: o.arch, baselineArch: o.baselineArch ?? o.arch, loss: o.loss, seed: o.seed, batchSize: o.batchSize, epochs: o.epochs, baselineEpochs: o.baselineEpochs ?? o.epochs, lr: o.lr, warmupSteps: o.warmupSteps ?? 0, trainLimit: o.trainLimit ?? null };
}

function checkConfig(ctx: Ctx, path: string, meta: Record<string, string>): void {
  const saved = JSON.parse(meta.config ?? '{}') as Record<string, unknown>;
  const now = configKey(ctx.o) as Record<string, unknown>;
  for (const k of Object.keys(now)) {
    if (JSON.stringify(saved[k]) !== JSON.stringify(now[k])) {
      throw new DataError(path, `--resume: this checkpoint was made with ${k} = ${JSON.stringify(saved[k])}, the command now says ${JSON.stringify(now[k])}; use the same flags or another --out`);
    }
  }
}

function makeLoader(ctx: Ctx, split: Split, trainMode: boolean): Loader {
  const pad = ctx.augment ? Math.max(1, Math.round(split.h / 8)) : 0;
  return new Loader(split, {
    batchSize: trainMode ? ctx.o.batchSize : (ctx.o.evalBatchSize ?? Math.max(ctx.o.batchSize, 256)),
    shuffle: trainMode,
    dropLast: trainMode,
    cropPadding: trainMode ? pad : 0,
    flip: trainMode && ctx.augment,
    norm: ctx.norm,
    seed: ctx.o.seed,
  });
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

/**
 * predictions.json: the test labels and both final models' predicted classes (the stage-2
 * model's under "focusnet", whatever the method), for the report's confusion matrices. Written
 * when both stages' predictions were collected (not when stage 2 was resumed already finished,
 * nor without a baseline); the report then recomputes them from the checkpoints.
 */
function writePredictions(ctx: Ctx, test: Split): void {
  const { baseline, stage2 } = ctx.predictions;
  if (!baseline || !stage2 || baseline.length !== test.n || stage2.length !== test.n) return;
  const body = { labels: Array.from(test.labels), baseline, focusnet: stage2, classes: ctx.ds.classNames, stage2: ctx.stage2Name };
  writeFileSync(join(ctx.o.out, 'predictions.json'), JSON.stringify(body));
}

/** Baseline logits for every training image (in dataset order), for --cache-baseline. */
async function baselineLogits(ctx: Ctx, baseline: Module): Promise<Float32Array> {
  baseline.eval();
  const loader = makeLoader(ctx, ctx.train, false);
  loader.startEpoch(0, 0);
  const n = ctx.ds.numClasses;
  const out = new Float32Array(ctx.train.n * n);
  const pending: Promise<void>[] = [];
  await runBatches(loader, (b) => {
    const z = scope(() => noGrad(() => baseline.forward(b.x)));
    const idx = b.host.indices;
    pending.push(
      z.read().then((v) => {
        for (let i = 0; i < idx.length; i++) out.set(v.subarray(i * n, (i + 1) * n), idx[i] * n);
        z.dispose();
      }),
    );
  });
  await Promise.all(pending);
  return out;
}

interface StageSpec {
  name: string; // 'baseline' or the stage-2 name
  stageNum: number;
  model: Module;
  arch: string;
  epochs: number;
  teacher: Module | null;
  loss: LossName | 'baseline';
  ckptPath: string;
  resumeFrom: { host: Record<string, HostTensor>; meta: Record<string, string> } | null;
}

async function runStage(ctx: Ctx, s: StageSpec): Promise<{ top1: number; top5: number; seconds: number }> {
  const { o } = ctx;
  let startEpoch = 0;
  if (s.resumeFrom) {
    loadInto(s.model, s.resumeFrom.host, 'model.', s.ckptPath);
    s.model.loadRandomState(JSON.parse(s.resumeFrom.meta.random_state ?? '{}'));
    startEpoch = Number(s.resumeFrom.meta.epoch);
  }
  const opt = new SGD(s.model.parameters(), { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  if (s.resumeFrom) {
    const mom: Float32Array[] = [];
    for (let i = 0; s.resumeFrom.host[`optim.momentum.${i}`]; i++) mom.push(s.resumeFrom.host[`optim.momentum.${i}`].data as Float32Array);
    // (SGD's constructor encodes zero-fills of its arenas; gpu().write submits them before
    // loadStateDict's upload, so the momentum is not erased)
    opt.loadStateDict({ step: Number(s.resumeFrom.meta.optim_step), momentum: mom });
  }
  const sched = schedule(o, s.epochs);
  const trainLoader = makeLoader(ctx, ctx.train, true);
  const testLoader = makeLoader(ctx, ctx.test, false);
  let cache: { logits: Float32Array; classes: number } | null = null;
  if (s.teacher) s.teacher.eval();
  if (s.teacher && o.cacheBaseline) {
    if (ctx.augment) ctx.log(`note: --cache-baseline ignored: the training split is augmented (random crop/flip), so the baseline's logits change every epoch`);
    else {
      const t0 = performance.now();
      cache = { logits: await baselineLogits(ctx, s.teacher), classes: ctx.ds.numClasses };
      ctx.log(`cached the baseline's logits for ${ctx.train.n} training images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  let last = { top1: NaN, top5: NaN };
  let seconds = ctx.history.filter((h) => h.stage === s.name).reduce((a, h) => a + h.seconds, 0);
  for (let epoch = startEpoch; epoch < s.epochs; epoch++) {
    const t0 = performance.now();
    const lr = sched(epoch);
    opt.lr = lr;
    s.model.train();
    trainLoader.startEpoch(s.stageNum, epoch);
    ctx.acc.reset();
    const label = `${s.name} ${epoch + 1}/${s.epochs}`;
    ctx.progress.start(label, trainLoader.batchCount);
    let timing: LoopTiming;
    const warmup = o.warmupSteps ?? 0;
    let stepInEpoch = 0;
    // the check after the last step already reads the epoch's sums: reuse them
    let lastCheck = null as MetricSums | null;
    try {
      timing = await runBatches(
        trainLoader,
        (b) => {
          // linear warm-up: step t of the stage (counted from epoch 0, so resume is exact) uses lr·(t+1)/warmup
          const t = epoch * trainLoader.batchCount + stepInEpoch++;
          opt.lr = t < warmup ? (lr * (t + 1)) / warmup : lr;
          scope(() => {
            const zb = s.teacher ? (b.zb ?? noGrad(() => s.teacher!.forward(b.x))) : null;
            const z = s.model.forward(b.x);
            const loss = s.loss === 'baseline' ? crossEntropy(z, b.y) : stageTwoLoss(s.loss, z, zb, b.y, o.objective);
            opt.zeroGrad();
            loss.backward();
            opt.step();
            ctx.acc.add(z, b.y, loss);
          });
        },
        {
          cache,
          every: o.logEvery ?? 50,
          check: async (k, t) => {
            const m = await ctx.acc.read();
            lastCheck = k === trainLoader.batchCount - 1 ? m : null;
            if (!Number.isFinite(m.lossSum)) {
              ctx.progress.stop();
              await checkLabels(); // a label the loss kernels found out of range explains a NaN loss (throws naming it)
              const prev = epoch > 0 || existsSync(s.ckptPath) ? `The last good checkpoint (${s.name} epoch ${epoch}) is kept at ${s.ckptPath}` : 'No checkpoint of this stage was written yet';
              throw new DivergedError(`${s.name} epoch ${epoch + 1}, by step ${k + 1}: the loss became ${m.lossSum} (not finite); training stopped. ${prev}. Try a smaller --lr.`);
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
    ctx.history.push(rec);
    await saveCheckpoint(ctx, s.ckptPath, s.name, epoch + 1, s.model, opt, s.arch);
    appendFileSync(join(o.out, 'metrics.jsonl'), JSON.stringify(rec) + '\n');
    ctx.log(
      `${s.name} epoch ${epoch + 1}/${s.epochs}: loss ${tr.loss.toFixed(4)}  train ${tr.top1.toFixed(2)}%  test top-1 ${ev.top1.toFixed(2)}%  top-5 ${ev.top5.toFixed(2)}%  ` +
        `lr ${lr.toPrecision(3)}  ${rec.images_per_s.toFixed(0)} img/s  ${sec.toFixed(1)} s (train ${timing.seconds.toFixed(1)} s; per step: data ${rec.data_ms_per_step.toFixed(2)} ms, encode ${rec.encode_ms_per_step.toFixed(2)} ms, GPU wait ${rec.gpu_wait_ms_per_step.toFixed(2)} ms)`,
    );
    last = { top1: ev.top1, top5: ev.top5 };
    ctx.epochsDone++;
    if (o.stopAfterEpochs !== undefined && ctx.epochsDone >= o.stopAfterEpochs) {
      throw new StoppedError(`stopped after ${ctx.epochsDone} epochs (stopAfterEpochs)`);
    }
  }
  if (startEpoch >= s.epochs) {
    // resumed a finished stage: its numbers are in the history
    const h = ctx.history.filter((r) => r.stage === s.name).pop();
    if (h) last = { top1: h.test_top1, top5: h.test_top5 };
  }
  // the optimizer stays: it owns the parameter arena (a stage-1 model goes on as the frozen baseline)
  return { ...last, seconds };
}

function modelMeta(ctx: Ctx, arch: string, stage: string): Record<string, string> {
  return {
    format: 'focusnet-model',
    arch,
    stage,
    num_classes: String(ctx.ds.numClasses),
    in_channels: String(ctx.train.c),
    image_size: String(ctx.train.h),
    norm: JSON.stringify(ctx.norm),
  };
}

/** Prepare the data set (readers, limits, normalisation) the way train and eval both need. */
export function prepareData(o: { data: string; trainLimit?: number; testLimit?: number; norm?: Normalization } & LoadOptions) {
  const ds = loadDataset(o.data, o);
  const train = o.trainLimit && o.trainLimit < ds.train.n ? new SubsetSplit(ds.train, o.trainLimit) : ds.train;
  const test = o.testLimit && o.testLimit < ds.test.n ? new SubsetSplit(ds.test, o.testLimit) : ds.test;
  const norm = o.norm ?? channelStats(train);
  if (norm.mean.length !== train.c || norm.std.length !== train.c) throw new DataError(o.data, `normalisation has ${norm.mean.length} channels, the images have ${train.c}`);
  return { ds, train, test, norm };
}

/** Train (both stages as needed), write the output files, return summary.json's content. */
export async function train(o: TrainOptions, prepared?: ReturnType<typeof prepareData>): Promise<Summary> {
  const log = o.log ?? ((s: string) => console.log(s));
  const { ds, train, test, norm } = prepared ?? prepareData(o);
  // Labels are checked once per data set here, on the host (the readers check their own
  // files; a caller's `prepared` splits get the same guarantee).
  checkSplitLabels(train, ds.numClasses, `training split of ${o.data}`);
  checkSplitLabels(test, ds.numClasses, `test split of ${o.data}`);
  mkdirSync(o.out, { recursive: true });
  const ctx: Ctx = {
    o,
    ds,
    train,
    test,
    norm,
    augment: o.augment ?? ds.augmentByDefault,
    acc: new MetricAccumulator(),
    progress: new Progress(o.progress ?? 'auto'),
    log,
    history: [],
    epochsDone: 0,
    stage2Name: stageTwoName(o.loss),
    predictions: {},
  };
  const E0 = o.baselineEpochs ?? o.epochs;
  const baselineArch = o.baselineArch ?? o.arch;
  const ck1 = join(o.out, 'checkpoint-baseline.safetensors');
  const ck2 = join(o.out, `checkpoint-${ctx.stage2Name}.safetensors`);
  const baselineFile = join(o.out, 'baseline.safetensors');
  const finalFile = join(o.out, `${ctx.stage2Name}.safetensors`);

  let resume1: StageSpec['resumeFrom'] = null;
  let resume2: StageSpec['resumeFrom'] = null;
  if (o.resume) {
    if (existsSync(ck2)) {
      const f = readSafetensorsFile(ck2);
      checkConfig(ctx, ck2, f.metadata);
      resume2 = { host: f.tensors, meta: f.metadata };
      ctx.history = JSON.parse(f.metadata.history ?? '[]');
    } else if (existsSync(ck1) && !o.baseline) {
      const f = readSafetensorsFile(ck1);
      checkConfig(ctx, ck1, f.metadata);
      resume1 = { host: f.tensors, meta: f.metadata };
      ctx.history = JSON.parse(f.metadata.history ?? '[]');
    }
    if (resume1 || resume2) log(`resuming from ${resume2 ? ck2 : ck1} (${ctx.history.length} epochs done)`);
    else log(`--resume: no checkpoint in ${o.out}; starting from scratch`);
  }
  // metrics.jsonl holds exactly the completed epochs
  writeFileAtomic(join(o.out, 'metrics.jsonl'), ctx.history.map((h) => JSON.stringify(h) + '\n').join(''));
  log(
    `data: ${ds.format} at ${o.data}: ${train.n} training / ${test.n} test images, ${train.c}×${train.h}×${train.w}, ${ds.numClasses} classes; ` +
      `augmentation ${ctx.augment ? 'random crop + flip' : 'off'}; normalisation mean [${norm.mean.map((v) => v.toFixed(4))}] std [${norm.std.map((v) => v.toFixed(4))}]`,
  );
  log(`adapter: ${gpu().info.vendor} ${gpu().info.architecture}${gpu().info.isSoftware ? ' (software)' : ''}`);

  const summary: Summary = {};
  const started = performance.now();
  let baseline: Module | null = null;
  let baseSeconds = 0;
  const wantBaseline = needsBaseline(o.loss) || !!o.baseline;
  if (!wantBaseline) log(`note: --loss ${o.loss} needs no baseline, so stage 1 is skipped (pass --baseline FILE to compare against one)`);
  if (o.baseline) {
    const f = readSafetensorsFile(o.baseline);
    const arch = o.baselineArch ?? f.metadata.arch ?? o.arch;
    baseline = buildModel(ctx, arch, 1);
    loadInto(baseline, f.tensors, f.metadata.format === 'focusnet-checkpoint' ? 'model.' : '', o.baseline);
    ctx.predictions.baseline = [];
    const ev = await evaluate(baseline, makeLoader(ctx, test, false), ctx.acc, ctx.predictions.baseline);
    summary.baseline = { top1: ev.top1, top5: ev.top5 };
    log(`baseline from ${o.baseline} (${arch}): test top-1 ${ev.top1.toFixed(2)}%  top-5 ${ev.top5.toFixed(2)}%`);
  } else if (wantBaseline) {
    baseline = buildModel(ctx, baselineArch, 1);
    if (resume2) {
      // stage 1 finished before the interruption: its weights are in baseline.safetensors
      const f = readSafetensorsFile(baselineFile);
      loadInto(baseline, f.tensors, '', baselineFile);
      const h = ctx.history.filter((r) => r.stage === 'baseline').pop();
      if (h) summary.baseline = { top1: h.test_top1, top5: h.test_top5 };
      baseSeconds = ctx.history.filter((r) => r.stage === 'baseline').reduce((a, r) => a + r.seconds, 0);
    } else {
      const r = await runStage(ctx, { name: 'baseline', stageNum: 1, model: baseline, arch: baselineArch, epochs: E0, teacher: null, loss: 'baseline', ckptPath: ck1, resumeFrom: resume1 });
      summary.baseline = { top1: r.top1, top5: r.top5 };
      baseSeconds = r.seconds;
      await saveModelFile(baselineFile, baseline, modelMeta(ctx, baselineArch, 'baseline'));
    }
  }
  const student = buildModel(ctx, o.arch, 2);
  const r2 = await runStage(ctx, {
    name: ctx.stage2Name,
    stageNum: 2,
    model: student,
    arch: o.arch,
    epochs: o.epochs,
    teacher: needsBaseline(o.loss) ? baseline : null,
    loss: o.loss,
    ckptPath: ck2,
    resumeFrom: resume2,
  });
  await saveModelFile(finalFile, student, modelMeta(ctx, o.arch, ctx.stage2Name));
  summary[ctx.stage2Name] = { top1: r2.top1, top5: r2.top5 };
  if (baseline && ctx.predictions.stage2 && !ctx.predictions.baseline) {
    // resumed after stage 1: the frozen baseline's predictions take one evaluation pass, and
    // only when stage 2's final evaluation ran in this run (predictions.json needs both)
    ctx.predictions.baseline = [];
    await evaluate(baseline, makeLoader(ctx, test, false), ctx.acc, ctx.predictions.baseline);
  }
  writePredictions(ctx, test);
  const stage2Epochs = ctx.history.filter((h) => h.stage === ctx.stage2Name);
  const meanEpoch = stage2Epochs.length ? stage2Epochs.reduce((a, h) => a + h.train_seconds, 0) / stage2Epochs.length : NaN;
  const total = ctx.history.reduce((a, h) => a + h.seconds, 0);
  Object.assign(summary, {
    method: o.loss,
    stage2: ctx.stage2Name,
    arch: o.arch,
    baseline_arch: wantBaseline ? (o.baseline ? 'checkpoint' : baselineArch) : null,
    epochs: { baseline: wantBaseline && !o.baseline ? E0 : 0, [ctx.stage2Name]: o.epochs },
    seconds: total,
    stage_seconds: { baseline: baseSeconds, [ctx.stage2Name]: r2.seconds },
    stage2_train_seconds_per_epoch: meanEpoch,
    cache_baseline: !!o.cacheBaseline && !ctx.augment && needsBaseline(o.loss),
    seed: o.seed,
    batch_size: o.batchSize,
    lr: o.lr,
    data: o.data,
    format: ds.format,
    train_images: train.n,
    test_images: test.n,
    wall_seconds_this_run: (performance.now() - started) / 1000,
  });
  writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  log('');
  for (const line of summaryTable(summary, ctx.history)) log(line);
  ctx.acc.dispose();
  return summary;
}

/** The closing table: baseline against FocusNet (or the comparison method). */
export function summaryTable(summary: Summary, history: EpochRecord[]): string[] {
  const rows: string[][] = [['model', 'epochs', 'top-1 %', 'top-5 %', 'time']];
  const names = ['baseline', String(summary.stage2 ?? 'focusnet')];
  for (const n of names) {
    const r = summary[n] as { top1: number; top5: number } | undefined;
    if (!r) continue;
    const hs = history.filter((h) => h.stage === n);
    const sec = hs.reduce((a, h) => a + h.seconds, 0);
    rows.push([n, hs.length ? String(hs.length) : '-', r.top1.toFixed(2), r.top5.toFixed(2), hs.length ? `${sec.toFixed(0)} s` : '-']);
  }
  const b = summary.baseline;
  const f = summary[names[1]] as { top1: number } | undefined;
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('   '));
  lines.splice(1, 0, w.map((x) => '-'.repeat(x)).join('   '));
  if (b && f) lines.push(`${names[1]} vs baseline: ${f.top1 - b.top1 >= 0 ? '+' : ''}${(f.top1 - b.top1).toFixed(2)} points top-1`);
  return lines;
}
