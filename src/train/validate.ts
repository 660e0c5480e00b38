// Every option of a training run checked before any work starts (an ArgError naming the flag,
// the command line's exit status 2), also those only stage 2 uses (--temperature, --kd-weight,
// --label-smoothing, …): a run never trains its baseline for an hour and then fails on a flag.
// train() calls it for every caller (the command line, experiments, library code; the range of
// --milestones is the command line's, checkMilestones); the checks that need the data (the channel count of --mean/--std, a batch larger than the training
// split) are in checkRunData, once the data is loaded. What a resumed run must share with the
// run in --out is checked against its checkpoint (resume.ts).
import { ArgError } from '../errors.js';
import type { Split } from '../data/split.js';
import { LOSSES, needsBaseline } from './objective.js';
import { PRECISIONS, type TrainOptions } from './options.js';
import { halfSupported } from '../ops/precision.js';
import { gpu } from '../gpu/index.js';

const SCHEDULES = ['multistep', 'cosine', 'constant'];
const PROGRESS = ['auto', 'bar', 'plain', 'none'];

type Check = (v: number) => boolean;
const positiveInt: Check = (v) => Number.isSafeInteger(v) && v >= 1;

/** Check `o` (TrainOptions as the command line or a caller built them); `cmd` names the command in messages. */
export function validateTrainOptions(o: TrainOptions, cmd = 'train'): void {
  const bad = (flag: string, v: unknown, want: string): never => {
    throw new ArgError(`focusnet ${cmd}: --${flag} ${Array.isArray(v) ? v.join(',') : String(v)}: ${want}`);
  };
  const num = (flag: string, v: unknown, ok: Check, want: string, optional = false) => {
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) bad(flag, v, want);
  };
  const word = (flag: string, v: unknown, words: readonly string[]) => {
    if (typeof v !== 'string' || !words.includes(v)) bad(flag, v, `expected one of ${words.join(', ')}`);
  };
  if (typeof o.data !== 'string' || !o.data) bad('data', o.data, 'expected a data folder');
  if (typeof o.out !== 'string' || !o.out) bad('out', o.out, 'expected an output folder');
  num('epochs', o.epochs, positiveInt, 'expected a whole number of epochs >= 1');
  num('baseline-epochs', o.baselineEpochs, positiveInt, 'expected a whole number of epochs >= 1', true);
  num('batch-size', o.batchSize, positiveInt, 'expected a whole number >= 1');
  num('eval-batch-size', o.evalBatchSize, positiveInt, 'expected a whole number >= 1', true);
  num('lr', o.lr, (v) => v >= 0, 'expected a number >= 0'); // 0 (frozen weights) for library callers; the command line wants > 0
  num('momentum', o.momentum, (v) => v >= 0 && v < 1, 'expected a number in [0, 1)');
  num('weight-decay', o.weightDecay, (v) => v >= 0, 'expected a number >= 0');
  word('schedule', o.schedule, SCHEDULES);
  num('gamma', o.gamma, (v) => v > 0, 'expected a number > 0', true);
  if (o.warmupSteps !== 'auto') num('warmup-steps', o.warmupSteps, (v) => Number.isSafeInteger(v) && v >= 0, "expected a whole number of steps >= 0 (0: no warm-up) or 'auto'", true);
  num('seed', o.seed, Number.isSafeInteger, 'expected a whole number');
  word('loss', o.loss, LOSSES);
  if (o.precision !== undefined) word('precision', o.precision, PRECISIONS);
  const ob = o.objective;
  if (!ob || typeof ob !== 'object') throw new ArgError(`focusnet ${cmd}: the objective options (--loss-impl, --alpha, …) are missing`);
  word('loss-impl', ob.impl, ['fused', 'composed']);
  word('rule', ob.rule, ['positive-logit', 'softmax']);
  num('alpha', ob.alpha, () => true, 'expected a finite number');
  num('beta', ob.beta, () => true, 'expected a finite number');
  num('label-smoothing', ob.labelSmoothing, (v) => v >= 0 && v < 1, 'expected a number in [0, 1)');
  num('temperature', ob.temperature, (v) => v > 0, 'expected a number > 0 (the softening of both models\' logits)');
  num('warm-temperature', ob.warmTemperature, (v) => v > 0, 'expected a number > 0 (the softmax warm-label rule: softmax(zb / T) > 1/N)', true);
  num('focus-label-smoothing', ob.focusLabelSmoothing, (v) => v >= 0 && v < 1, 'expected a number in [0, 1)', true);
  num('kd-weight', ob.kdWeight, (v) => v >= 0 && v <= 1, 'expected a number in [0, 1] (the weight of the distillation term against cross-entropy)');
  for (const [flag, v] of [['train-limit', o.trainLimit], ['test-limit', o.testLimit], ['log-every', o.logEvery], ['stop-after-epochs', o.stopAfterEpochs], ['num-classes', o.numClasses], ['image-size', o.imageSize]] as const) {
    num(flag, v, positiveInt, 'expected a whole number >= 1', true);
  }
  if (o.progress !== undefined) word('progress', o.progress, PROGRESS);
  if (o.resume && o.force) throw new ArgError(`focusnet ${cmd}: --resume and --force contradict each other (continue the run in --out, or replace it)`);
  if (o.norm !== undefined) {
    const { mean, std } = o.norm;
    if (!Array.isArray(mean) || !Array.isArray(std) || !mean.length) throw new ArgError(`focusnet ${cmd}: --mean and --std go together, one value per channel`);
    if (mean.length !== std.length) throw new ArgError(`focusnet ${cmd}: --mean has ${mean.length} values, --std ${std.length}`);
    if (!mean.every(Number.isFinite)) bad('mean', mean, 'expected finite numbers');
    if (!std.every((s) => Number.isFinite(s) && s > 0)) bad('std', std, 'expected numbers > 0');
  }
  if (o.milestones !== undefined && (!Array.isArray(o.milestones) || !o.milestones.every(positiveInt))) bad('milestones', o.milestones, 'expected whole numbers >= 1 (epochs)');
}

/**
 * --milestones within the epochs the command trains (multistep): a milestone at or beyond the
 * last epoch never takes effect. The command line checks it; train() does not, since a caller
 * may train one stage of a schedule meant for longer runs (an experiment's shared baselines).
 */
export function checkMilestones(o: TrainOptions, cmd = 'train'): void {
  if (o.milestones === undefined || o.schedule !== 'multistep') return;
  const trainsBaseline = needsBaseline(o.loss) && !o.baseline;
  const last = Math.max(o.epochs, trainsBaseline ? (o.baselineEpochs ?? o.epochs) : 0);
  const beyond = o.milestones.filter((m) => m >= last);
  if (beyond.length) {
    const longer = trainsBaseline && o.baselineEpochs !== undefined && o.baselineEpochs !== o.epochs ? ' in the longer stage' : '';
    throw new ArgError(`focusnet ${cmd}: --milestones ${o.milestones.join(',')}: ${beyond.join(', ')} ${beyond.length > 1 ? 'are' : 'is'} beyond the last epoch: the lr drops after epoch m for m in 1..${last - 1} (${last} epochs${longer})`);
  }
}

/** The options that depend on the data: the channels of --mean/--std, and a batch the training split can fill. */
export function checkRunData(o: TrainOptions, train: Split, cmd = 'train'): void {
  if (o.batchSize > train.n) {
    throw new ArgError(`focusnet ${cmd}: --batch-size ${o.batchSize} is larger than the ${train.n} training images of ${o.data} (the last partial batch is dropped, so not one step would train); use a smaller --batch-size`);
  }
}

/** --precision mixed on an adapter without 'shader-f16': an ArgError naming the flag and the feature (needs init()). */
export function checkPrecisionSupport(o: TrainOptions, cmd = 'train'): void {
  if (o.precision !== 'mixed' || halfSupported()) return;
  const i = gpu().info;
  throw new ArgError(
    `focusnet ${cmd}: --precision mixed needs the adapter feature 'shader-f16', which this adapter (${i.vendor} ${i.description || i.architecture}, ${i.backend}) does not offer; use --precision f32`,
  );
}
