// The metadata of the trainer's files, field by field (src/train/checkpoint.ts says what each
// file holds). Every field of a model file (format 'focusnet-model') and of a training
// checkpoint ('focusnet-checkpoint') is parsed here and checked for its type and range and
// against the other fields of the file; a field that is missing or wrong is a DataError naming
// the file and the field (`…/checkpoint-ce.safetensors: metadata field 'epoch': "abc" is not a
// whole number`). Checks against the tensors are in checkpoint.ts, checks against the command
// that resumes a run in resume.ts. A file of another format (a state dict from torchvision or
// io.saveSafetensors) is not the trainer's: only its 'arch', when it names an architecture, is
// taken; a file of another format that holds the trainer's own fields is a damaged one.
import { DataError } from '../data/errors.js';
import type { Normalization } from '../data/loader.js';
import type { DataFingerprint } from '../data/fingerprint.js';
import { findArch } from '../models/registry.js';
import { LOSSES } from './objective.js';
import { EpochRecord, stageTwoName } from './options.js';

export const MODEL_FORMAT = 'focusnet-model';
export const CHECKPOINT_FORMAT = 'focusnet-checkpoint';

/** What a training checkpoint records besides its tensors, the epoch and the normalisation. */
export interface TrainingState {
  /** SGD steps taken by the stage so far */
  optimStep: number;
  /** what every epoch's data order derives from: the seed, the stage's number (1, 2) and the next epoch */
  rng: { seed: number; stage: number; nextEpoch: number };
  /** the model's dropout draw counters by module name */
  randomState: Record<string, number>;
  /** the options a resumed run must share (configKey in resume.ts) */
  config: Record<string, unknown>;
  /** every completed epoch of the run so far (metrics.jsonl) */
  history: EpochRecord[];
  /** the data set the run was trained on */
  data: DataFingerprint;
}

/** What a file's metadata says (a file of another format: the fields it holds in a usable form). */
export interface CheckpointInfo {
  /** 'model' (a trainer's model file), 'checkpoint' (a training checkpoint), 'state-dict' (anything else) */
  kind: 'model' | 'checkpoint' | 'state-dict';
  arch?: string;
  stage?: string;
  numClasses?: number;
  inChannels?: number;
  imageSize?: number;
  /** the normalisation the model was trained with */
  norm?: Normalization;
  /** a training checkpoint's completed epochs */
  epoch?: number;
  /** a training checkpoint's state (kind 'checkpoint') */
  training?: TrainingState;
}

/** The stages a file can belong to: the baseline and the stage-2 methods. */
export const STAGE_NAMES: readonly string[] = ['baseline', ...LOSSES.map(stageTwoName)];
/** A stage's number (1 the baseline, 2 stage 2): with the seed and the epoch, the data's RNG state. */
export const stageNumber = (stage: string) => (stage === 'baseline' ? 1 : 2);

const RECORD_NUMBERS = ['loss', 'train_acc', 'test_top1', 'test_top5', 'lr', 'seconds'] as const;
const RECORD_OPTIONAL = ['images_per_s', 'train_seconds', 'data_ms_per_step', 'encode_ms_per_step', 'gpu_wait_ms_per_step'] as const;

const show = (v: unknown) => {
  const s = v === undefined ? '(missing)' : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The reader of one file's metadata: every accessor checks its field and names it in errors. */
class Fields {
  constructor(
    readonly m: Record<string, string>,
    readonly file: string,
  ) {}

  fail(field: string, what: string): never {
    throw new DataError(this.file, `metadata field '${field}': ${what}`);
  }

  string(field: string): string {
    const v = this.m[field];
    if (v === undefined) this.fail(field, 'missing (the file was not written by this focusnet, or was edited)');
    return v;
  }

  /** A whole number written in decimal digits, within [min, max]. */
  count(field: string, min: number, max = 2 ** 31 - 1): number {
    const v = this.string(field);
    if (!/^\d{1,15}$/.test(v)) this.fail(field, `${show(v)} is not a whole number`);
    const n = Number(v);
    if (n < min || n > max) this.fail(field, `${n} is out of range [${min}, ${max}]`);
    return n;
  }

  json(field: string): unknown {
    const v = this.string(field);
    try {
      return JSON.parse(v);
    } catch (e) {
      return this.fail(field, `not valid JSON (${(e as Error).message})`);
    }
  }

  object(field: string): Record<string, unknown> {
    const v = this.json(field);
    if (!isObject(v)) this.fail(field, `${show(v)} is not a JSON object`);
    return v;
  }

  arch(field = 'arch'): string {
    const v = this.string(field);
    const spec = findArch(v);
    if (!spec) this.fail(field, `${show(v)} is not an architecture focusnet knows`);
    return spec.name;
  }

  stage(field = 'stage'): string {
    const v = this.string(field);
    if (!STAGE_NAMES.includes(v)) this.fail(field, `${show(v)} is not a stage (one of ${STAGE_NAMES.join(', ')})`);
    return v;
  }

  norm(channels?: number): Normalization {
    const n = this.object('norm');
    const arr = (k: 'mean' | 'std'): number[] => {
      const a = n[k];
      if (!Array.isArray(a) || a.length === 0) this.fail('norm', `"${k}" is not a non-empty list of numbers`);
      a.forEach((x, i) => {
        if (typeof x !== 'number' || !Number.isFinite(x)) this.fail('norm', `"${k}"[${i}] is ${show(x)}, not a finite number`);
        if (k === 'std' && x <= 0) this.fail('norm', `"std"[${i}] is ${x}, not > 0`);
      });
      return a as number[];
    };
    const mean = arr('mean');
    const std = arr('std');
    if (mean.length !== std.length) this.fail('norm', `"mean" has ${mean.length} values, "std" ${std.length}`);
    if (channels !== undefined && mean.length !== channels) this.fail('norm', `has ${mean.length} channels, in_channels says ${channels}`);
    return { mean, std };
  }
}

/** A whole number >= min in a JSON value (a config or history field). */
const isCount = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

function historyRecord(f: Fields, r: unknown, i: number): EpochRecord {
  const at = `record ${i + 1}`;
  if (!isObject(r)) f.fail('history', `${at} is ${show(r)}, not an object`);
  if (typeof r.stage !== 'string' || !STAGE_NAMES.includes(r.stage)) f.fail('history', `${at}: "stage" is ${show(r.stage)}, not a stage`);
  if (!isCount(r.epoch, 1)) f.fail('history', `${at}: "epoch" is ${show(r.epoch)}, not a whole number >= 1`);
  for (const k of RECORD_NUMBERS) {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) f.fail('history', `${at}: "${k}" is ${show(v)}, not a finite number`);
  }
  for (const k of ['train_acc', 'test_top1', 'test_top5'] as const) {
    if ((r[k] as number) < 0 || (r[k] as number) > 100) f.fail('history', `${at}: "${k}" is ${r[k]}, not a percentage`);
  }
  if ((r.lr as number) < 0 || (r.seconds as number) < 0) f.fail('history', `${at}: "lr" and "seconds" must be >= 0`);
  for (const k of RECORD_OPTIONAL) {
    if (r[k] !== undefined && r[k] !== null && typeof r[k] !== 'number') f.fail('history', `${at}: "${k}" is ${show(r[k])}, not a number`);
  }
  if (r.cached_baseline !== undefined && typeof r.cached_baseline !== 'boolean') f.fail('history', `${at}: "cached_baseline" is not true or false`);
  return r as unknown as EpochRecord;
}

/**
 * The history of a checkpoint of `stage` at `epoch`: the baseline's epochs 1..k first (stage 2
 * only, when the run trained its own baseline), then the stage's own epochs 1..epoch.
 */
function history(f: Fields, stage: string, epoch: number): EpochRecord[] {
  const h = f.json('history');
  if (!Array.isArray(h)) f.fail('history', `${show(h)} is not a JSON list`);
  const recs = h.map((r, i) => historyRecord(f, r, i));
  const own = recs.filter((r) => r.stage === stage);
  const before = recs.slice(0, recs.length - own.length);
  if (own.length !== epoch) f.fail('history', `holds ${own.length} ${stage} epochs, the checkpoint is at epoch ${epoch}`);
  const inOrder = (rs: EpochRecord[], name: string) => rs.every((r, i) => r.stage === name && r.epoch === i + 1);
  if (!inOrder(recs.slice(before.length), stage)) f.fail('history', `the ${stage} epochs are not 1..${epoch} in order at the end`);
  if (before.length && (stage === 'baseline' || !inOrder(before, 'baseline'))) f.fail('history', `records before the ${stage} epochs must be the baseline's epochs 1..${before.length} in order`);
  return recs;
}

function fingerprint(f: Fields): DataFingerprint {
  const d = f.object('data');
  if (typeof d.format !== 'string' || !d.format) f.fail('data', `"format" is ${show(d.format)}, not a data format`);
  if (typeof d.dir !== 'string') f.fail('data', `"dir" is ${show(d.dir)}, not a folder`);
  for (const k of ['train', 'test'] as const) if (!isCount(d[k], 1)) f.fail('data', `"${k}" is ${show(d[k])}, not an image count`);
  if (typeof d.hash !== 'string' || !/^[0-9a-f]{64}$/.test(d.hash)) f.fail('data', `"hash" is ${show(d.hash)}, not a SHA-256 in hex`);
  return d as unknown as DataFingerprint;
}

function trainingCheckpoint(f: Fields): CheckpointInfo {
  const stage = f.stage();
  const arch = f.arch();
  const epoch = f.count('epoch', 0);
  const config = f.object('config');
  if (typeof config.loss !== 'string' || !(LOSSES as readonly string[]).includes(config.loss)) f.fail('config', `"loss" is ${show(config.loss)}, not a loss`);
  if (stage !== 'baseline' && stageTwoName(config.loss as (typeof LOSSES)[number]) !== stage) f.fail('stage', `${show(stage)} is not the stage of --loss ${config.loss}`);
  const archKey = stage === 'baseline' ? 'baselineArch' : 'arch';
  if (config[archKey] !== arch) f.fail('arch', `${show(arch)}, the configuration's ${archKey} is ${show(config[archKey])}`);
  const epochsKey = stage === 'baseline' ? 'baselineEpochs' : 'epochs';
  const epochs = config[epochsKey];
  if (!isCount(epochs, 1)) f.fail('config', `"${epochsKey}" is ${show(epochs)}, not a whole number >= 1`);
  if (epoch > epochs) f.fail('epoch', `${epoch} is beyond the ${epochs} epochs the run was configured for`);
  const optimStep = f.count('optim_step', 0, Number.MAX_SAFE_INTEGER);
  if (optimStep < epoch) f.fail('optim_step', `${optimStep} steps cannot complete ${epoch} epochs`);
  const rngRaw = f.object('rng');
  if (typeof rngRaw.seed !== 'number' || !Number.isSafeInteger(rngRaw.seed)) f.fail('rng', `"seed" is ${show(rngRaw.seed)}, not a whole number`);
  if (rngRaw.stage !== stageNumber(stage)) f.fail('rng', `"stage" is ${show(rngRaw.stage)}, the ${stage} stage is ${stageNumber(stage)}`);
  if (rngRaw.next_epoch !== epoch) f.fail('rng', `"next_epoch" is ${show(rngRaw.next_epoch)}, the checkpoint is at epoch ${epoch}`);
  if (config.seed !== rngRaw.seed) f.fail('config', `"seed" is ${show(config.seed)}, the RNG state says ${rngRaw.seed}`);
  const rng = { seed: rngRaw.seed as number, stage: rngRaw.stage as number, nextEpoch: epoch };
  // each dropout draws one mask per training step (the stage's model runs in training mode only there)
  const randomState = f.object('random_state');
  for (const [k, v] of Object.entries(randomState)) {
    if (!isCount(v)) f.fail('random_state', `"${k}" is ${show(v)}, not a draw count`);
    if (v !== optimStep) f.fail('random_state', `"${k}" has drawn ${v} dropout masks, but ${optimStep} training steps draw ${optimStep}`);
  }
  return {
    kind: 'checkpoint', arch, stage, epoch, norm: f.norm(),
    training: { optimStep, rng, randomState: randomState as Record<string, number>, config, history: history(f, stage, epoch), data: fingerprint(f) },
  };
}

function modelFile(f: Fields): CheckpointInfo {
  const arch = f.arch();
  const stage = f.stage();
  const numClasses = f.count('num_classes', 1);
  const inChannels = f.count('in_channels', 1);
  const imageSize = f.count('image_size', 1);
  return { kind: 'model', arch, stage, numClasses, inChannels, imageSize, norm: f.norm(inChannels) };
}

/** Fields only the trainer writes: a file holding one but not the trainer's format was damaged. */
const TRAINER_FIELDS = ['stage', 'num_classes', 'in_channels', 'image_size', 'norm', 'epoch', 'optim_step', 'rng', 'random_state', 'config', 'history', 'data', 'checksum'];

/** The usable fields of a file of another format (nothing is checked: it is not the trainer's). */
function otherFile(f: Fields): CheckpointInfo {
  const m = f.m;
  const ours = TRAINER_FIELDS.filter((k) => k in m);
  if (ours.length) {
    f.fail('format', `${show(m.format)}, but the file holds the trainer's fields (${ours.join(', ')}): '${MODEL_FORMAT}' or '${CHECKPOINT_FORMAT}' was expected`);
  }
  const info: CheckpointInfo = { kind: 'state-dict' };
  const arch = m.arch !== undefined ? findArch(m.arch) : undefined;
  if (arch) info.arch = arch.name;
  return info;
}

/**
 * The one reading of a file's metadata (`file` names it in errors): a trainer's file is checked
 * field by field (DataError naming the field), any other file gives what it holds in a usable form.
 */
export function checkpointInfo(meta: Record<string, string> | null, file = 'checkpoint'): CheckpointInfo {
  const m = meta ?? {};
  const f = new Fields(m, file);
  if (m.format === CHECKPOINT_FORMAT) return trainingCheckpoint(f);
  if (m.format === MODEL_FORMAT) return modelFile(f);
  return otherFile(f);
}
