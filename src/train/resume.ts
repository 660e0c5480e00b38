// `--resume`: which checkpoint of --out a run continues from, and everything it must agree with
// before anything trains or any file of the run changes:
//   - the checkpoint is a training checkpoint of the stage its name says (metadata.ts has
//     already checked each field and the fields against each other, checkpoint.ts the tensors);
//   - the command's options that shape training are the ones the run was started with
//     (configKey: each difference names its flag);
//   - the data is the data set the run was started with (the fingerprint of src/data:
//     format, split sizes, a content hash), unless --allow-other-data says otherwise;
//   - the history holds the epochs this configuration trains (the baseline's, then the stage's),
//     the optimizer's step count the steps of those epochs, and the normalisation the one the
//     data gives (or the one --mean/--std gave);
//   - a stage-2 checkpoint of a run that trained its own baseline has that baseline's model file;
//   - the model files fit the models built for them (checkResumeFits, once the models exist).
// A folder that holds a run but no checkpoint this command can continue is refused too.
import { hostFiles, basename } from '../platform/files.js';
import { DataError } from '../data/errors.js';
import { fingerprintMismatch } from '../data/fingerprint.js';
import type { Normalization } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import { FOCUS_DEFAULTS, LossName, ObjectiveOptions } from './objective.js';
import type { TrainOptions } from './options.js';
import type { RunContext } from './context.js';
import { readCheckpoint, trainingState, CheckpointFile } from './checkpoint.js';
import { checkFit } from './load.js';

/** The objective's options that change the loss of `loss` (a resumed run must keep them). */
function lossOptions(loss: LossName, ob: ObjectiveOptions): Record<string, unknown> {
  if (loss === 'focus') {
    return {
      alpha: ob.alpha, beta: ob.beta, rule: ob.rule,
      warmTemperature: ob.warmTemperature ?? FOCUS_DEFAULTS.warmTemperature,
      focusLabelSmoothing: ob.focusLabelSmoothing ?? FOCUS_DEFAULTS.focusLabelSmoothing,
    };
  }
  if (loss === 'ls') return { labelSmoothing: ob.labelSmoothing };
  if (loss === 'kd') return { temperature: ob.temperature, kdWeight: ob.kdWeight };
  return {};
}

/** The options a resumed run must share with the run that wrote the checkpoint (`augment` as resolved for the data). */
export function configKey(o: TrainOptions, augment: boolean): Record<string, unknown> {
  return {
    arch: o.arch, baselineArch: o.baselineArch ?? o.arch, loss: o.loss, seed: o.seed, batchSize: o.batchSize,
    epochs: o.epochs, baselineEpochs: o.baselineEpochs ?? o.epochs, lr: o.lr, warmupSteps: o.warmupSteps ?? 0,
    trainLimit: o.trainLimit ?? null, momentum: o.momentum, weightDecay: o.weightDecay, schedule: o.schedule,
    milestones: o.milestones ?? null, gamma: o.gamma ?? null, augment, norm: o.norm ?? null,
    objective: lossOptions(o.loss, o.objective),
    // recorded only when mixed, so checkpoints from before --precision existed resume as f32
    ...(o.precision === 'mixed' ? { precision: 'mixed' } : {}),
  };
}

/** The flag of each configuration key, for the messages. */
const FLAG: Record<string, string> = {
  arch: '--arch', baselineArch: '--baseline-arch', loss: '--loss', seed: '--seed', batchSize: '--batch-size',
  epochs: '--epochs', baselineEpochs: '--baseline-epochs', lr: '--lr', warmupSteps: '--warmup-steps',
  trainLimit: '--train-limit', momentum: '--momentum', weightDecay: '--weight-decay', schedule: '--schedule',
  milestones: '--milestones', gamma: '--gamma', augment: '--augment/--no-augment', norm: '--mean/--std',
  alpha: '--alpha', beta: '--beta', rule: '--rule', labelSmoothing: '--label-smoothing', temperature: '--temperature',
  kdWeight: '--kd-weight', warmTemperature: '--warm-temperature', focusLabelSmoothing: '--focus-label-smoothing', precision: '--precision',
};

const shown = (v: unknown) => (v === undefined ? '(not recorded)' : v === null ? '(the default)' : JSON.stringify(v));

/** Refuse (DataError naming the file and the flag) a checkpoint made with other options. */
export function checkResumeConfig(ck: CheckpointFile, now: Record<string, unknown>): void {
  const saved = trainingState(ck).config;
  const differ = (key: string, a: unknown, b: unknown) => {
    throw new DataError(ck.path, `--resume: this run was started with ${FLAG[key] ?? key} ${shown(a)}, the command now says ${shown(b)}; use the run's flags, or another --out (or --force to replace the run)`);
  };
  for (const [k, v] of Object.entries(now)) {
    if (k === 'objective') {
      const s = (saved.objective ?? {}) as Record<string, unknown>;
      for (const [j, w] of Object.entries(v as Record<string, unknown>)) if (JSON.stringify(s[j]) !== JSON.stringify(w)) differ(j, s[j], w);
    } else if (k !== 'precision' && JSON.stringify(saved[k]) !== JSON.stringify(v)) differ(k, saved[k], v);
  }
  // recorded only for mixed runs (configKey): absent means f32, on either side
  const sp = saved.precision ?? 'f32';
  const np = now.precision ?? 'f32';
  if (sp !== np) differ('precision', sp, np);
}

/** What the stage a checkpoint belongs to must be. */
interface StageFacts {
  name: string;
  arch: string;
  /** baseline epochs the history holds before the stage's own (stage 2 of a run that trained its baseline) */
  baselineEpochs: number;
}

/** The epochs and data a checkpoint records against this run; returns the normalisation to go on with. */
function checkCheckpoint(ctx: RunContext, ck: CheckpointFile, s: StageFacts): Normalization {
  const st = trainingState(ck);
  if (ck.info.stage !== s.name) throw new DataError(ck.path, `metadata field 'stage': ${JSON.stringify(ck.info.stage)}, but this file holds the ${s.name} stage`);
  checkResumeConfig(ck, ctx.config);
  if (ck.info.arch !== s.arch) throw new DataError(ck.path, `metadata field 'arch': ${ck.info.arch}, the ${s.name} stage trains ${s.arch}`);
  const before = st.history.filter((h) => h.stage === 'baseline' && s.name !== 'baseline').length;
  if (before !== s.baselineEpochs) {
    throw new DataError(ck.path, `metadata field 'history': holds ${before} baseline epochs before the ${s.name} stage, this run trains ${s.baselineEpochs}`);
  }
  const other = fingerprintMismatch(st.data, ctx.data);
  if (other && !ctx.o.allowOtherData) {
    throw new DataError(ck.path, `--resume: ${other}. Pass --allow-other-data to continue this run on the new data anyway, or train into another --out`);
  }
  if (other) {
    ctx.log(`note: --allow-other-data: continuing on other data than the run was started on (${other})`);
    return ck.info.norm!;
  }
  const steps = ck.info.epoch! * ctx.stepsPerEpoch;
  if (st.optimStep !== steps) throw new DataError(ck.path, `metadata field 'optim_step': ${st.optimStep}, but ${ck.info.epoch} epochs of ${ctx.stepsPerEpoch} steps are ${steps}`);
  if (st.config.norm === null && JSON.stringify(ck.info.norm) !== JSON.stringify(ctx.norm)) {
    throw new DataError(ck.path, `metadata field 'norm': ${JSON.stringify(ck.info.norm)} is not the normalisation of the data (${JSON.stringify(ctx.norm)})`);
  }
  return ck.info.norm!;
}

export interface ResumePoint {
  stage1: CheckpointFile | null;
  stage2: CheckpointFile | null;
  /** the baseline's model file, when stage 2 resumes after a baseline trained in this run */
  baselineModel: CheckpointFile | null;
}

export interface RunFiles {
  ck1: string;
  ck2: string;
  baselineFile: string;
  /** whether stage 1 trains in this run (the loss needs a baseline and none is given, or stages: 'baseline') */
  trainsBaseline: boolean;
  /** whether stage 2 trains in this run (not with stages: 'baseline') */
  trainsStage2: boolean;
  /** the baseline's epochs */
  E0: number;
}

/** The checkpoint --resume continues from (stage 2's, else stage 1's), checked in full; sets ctx.history and ctx.norm. */
export function findResume(ctx: RunContext, f: RunFiles): ResumePoint {
  const { o, log } = ctx;
  const none: ResumePoint = { stage1: null, stage2: null, baselineModel: null };
  const baselineArch = o.baselineArch ?? o.arch;
  let point = none;
  const files = hostFiles('train.train');
  if (f.trainsStage2 && files.exists(f.ck2)) point = { ...none, stage2: readCheckpoint(f.ck2) };
  else if (files.exists(f.ck1) && f.trainsBaseline) point = { ...none, stage1: readCheckpoint(f.ck1) };
  const ck = point.stage2 ?? point.stage1;
  if (!ck) {
    if (ctx.runFiles.length) {
      throw new DataError(o.out, `--resume: holds files of a run (${ctx.runFiles.join(', ')}) but no checkpoint this command can continue (${[...(f.trainsStage2 ? [f.ck2] : []), ...(f.trainsBaseline ? [f.ck1] : [])].map((p) => basename(p)).join(' or ')}); use --force to replace the run, or another --out`);
    }
    log(`--resume: no checkpoint in ${o.out}; starting from scratch`);
    return none;
  }
  if (point.stage2) {
    ctx.norm = checkCheckpoint(ctx, point.stage2, { name: ctx.stage2Name, arch: o.arch, baselineEpochs: f.trainsBaseline ? f.E0 : 0 });
    if (f.trainsBaseline) {
      if (!files.exists(f.baselineFile)) throw new DataError(o.out, `--resume: has ${basename(f.ck2)} but not the baseline it was trained next to (baseline.safetensors); use --force to train the run again, or another --out`);
      const b = readCheckpoint(f.baselineFile);
      if (b.info.kind !== 'model' || b.info.stage !== 'baseline' || b.info.arch !== baselineArch) {
        throw new DataError(f.baselineFile, `is not this run's baseline model file (format ${b.info.kind}, stage ${b.info.stage ?? '?'}, arch ${b.info.arch ?? '?'}; the run's baseline is a ${baselineArch})`);
      }
      if (JSON.stringify(b.info.norm) !== JSON.stringify(ctx.norm)) throw new DataError(f.baselineFile, `metadata field 'norm': ${JSON.stringify(b.info.norm)} differs from the checkpoint's ${JSON.stringify(ctx.norm)}`);
      point.baselineModel = b;
    }
  } else {
    ctx.norm = checkCheckpoint(ctx, point.stage1!, { name: 'baseline', arch: baselineArch, baselineEpochs: 0 });
  }
  ctx.history = trainingState(ck).history;
  log(`resuming from ${ck.path} (${ctx.history.length} epochs done)`);
  return point;
}

/** The checkpoint's tensors and dropout counters fit `model` (host-side; before anything is written). */
export function checkResumeFits(ck: CheckpointFile, model: Module, arch: string): void {
  checkFit(model, ck.tensors, ck.prefix, ck.path, arch);
  const drawing = Object.keys(model.randomState());
  const saved = trainingState(ck).randomState;
  for (const name of Object.keys(saved)) {
    if (!drawing.includes(name)) throw new DataError(ck.path, `metadata field 'random_state': '${name}' is not a module of ${arch} that draws random numbers`);
  }
  for (const name of drawing) {
    if (!(name in saved)) throw new DataError(ck.path, `metadata field 'random_state': has no draw count for ${arch}'s dropout '${name}'`);
  }
}
