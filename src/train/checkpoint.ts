// The trainer's files, in the safetensors format (src/io/safetensors.ts), and what they hold:
//   model file (baseline.safetensors, <stage 2>.safetensors): the state dict under its own
//     keys; metadata format 'focusnet-model', arch, stage, num_classes, in_channels,
//     image_size, norm (JSON { mean, std }).
//   training checkpoint (checkpoint-<stage>.safetensors, after every epoch): the model under
//     'model.', the SGD momentum as 'optim.momentum.<i>'; metadata format 'focusnet-checkpoint',
//     stage, arch, epoch, optim_step, rng, random_state, config, history, norm.
//   any other safetensors file (torchvision's, io.saveSafetensors'): a bare state dict.
// Files are written atomically (writeFileAtomic; encodeModelFile gives a page the bytes).
// Reading: readCheckpoint (the whole file, on the host; checkpointFromBytes for bytes a page
// fetched) or readCheckpointInfo (the header only). Every metadata field is interpreted in one
// place, checkpointInfo(). `--resume` refuses a checkpoint made with another configuration.
import { readSafetensorsMetadata } from '../io/safetensors.js';
import { DataError } from '../data/errors.js';
import type { Normalization } from '../data/loader.js';
import type { Module } from '../nn/module.js';
import type { SGD } from '../optim/sgd.js';
import type { EpochRecord, TrainOptions } from './options.js';
import { decodeSafetensorsFile, encodeSafetensors, readSafetensorsFile, toHost, writeFileAtomic, HostTensor } from './safetensors.js';
import { hostFiles } from '../platform/files.js';

export const MODEL_FORMAT = 'focusnet-model';
export const CHECKPOINT_FORMAT = 'focusnet-checkpoint';

/** What a file's metadata says (fields it lacks, or holds in an unusable form, are absent). */
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
}

/** A checkpoint read into host memory. */
export interface CheckpointFile {
  path: string;
  info: CheckpointInfo;
  metadata: Record<string, string>;
  /** every tensor of the file, under the file's keys */
  tensors: Record<string, HostTensor>;
  /** the key prefix of the model's tensors: 'model.' in a training checkpoint, else '' */
  prefix: string;
}

function count(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

function normalization(v: string | undefined): Normalization | undefined {
  if (v === undefined) return undefined;
  try {
    const n = JSON.parse(v);
    if (Array.isArray(n?.mean) && Array.isArray(n?.std)) return { mean: n.mean.map(Number), std: n.std.map(Number) };
  } catch {
    /* unusable: the caller computes the normalisation from the data */
  }
  return undefined;
}

/**
 * The one reading of a file's metadata (`file` names it in errors). Today it takes what it can
 * use and leaves out the rest; checks of the fields belong here.
 */
export function checkpointInfo(meta: Record<string, string> | null, _file = 'checkpoint'): CheckpointInfo {
  const m = meta ?? {};
  const info: CheckpointInfo = { kind: m.format === CHECKPOINT_FORMAT ? 'checkpoint' : m.format === MODEL_FORMAT ? 'model' : 'state-dict' };
  if (m.arch) info.arch = m.arch;
  if (m.stage) info.stage = m.stage;
  const fields = { numClasses: count(m.num_classes), inChannels: count(m.in_channels), imageSize: count(m.image_size), epoch: count(m.epoch), norm: normalization(m.norm) };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) Object.assign(info, { [k]: v });
  return info;
}

/** The metadata of a file from its header alone; an unreadable file gives no information (reading it fully reports why). */
export function readCheckpointInfo(path: string): CheckpointInfo {
  hostFiles('train.readCheckpointInfo');
  try {
    return checkpointInfo(readSafetensorsMetadata(path), path);
  } catch {
    return checkpointInfo(null, path);
  }
}

/**
 * Read a model file or a training checkpoint into host memory (a DataError naming the file
 * when it cannot be read or is not valid safetensors). A file whose every key starts with
 * 'model.' or 'optim.' is a training checkpoint even without its metadata.
 */
export function readCheckpoint(path: string): CheckpointFile {
  hostFiles('train.readCheckpoint');
  return asCheckpointFile(path, readSafetensorsFile(path));
}

/** readCheckpoint of a file's bytes (fetched in a page, say); `file` names it in errors. */
export function checkpointFromBytes(bytes: Uint8Array, file: string): CheckpointFile {
  return asCheckpointFile(file, decodeSafetensorsFile(bytes, file));
}

function asCheckpointFile(path: string, { tensors, metadata }: { tensors: Record<string, HostTensor>; metadata: Record<string, string> }): CheckpointFile {
  const info = checkpointInfo(metadata, path);
  const keys = Object.keys(tensors);
  const asCheckpoint = info.kind === 'checkpoint' || (keys.length > 0 && keys.every((k) => k.startsWith('model.') || k.startsWith('optim.')));
  return { path, info, metadata, tensors, prefix: asCheckpoint ? 'model.' : '' };
}

// ---- writing --------------------------------------------------------------------------------

/** A model file's metadata. */
export function modelMetadata(o: { arch: string; stage: string; numClasses: number; inChannels: number; imageSize: number; norm: Normalization }): Record<string, string> {
  return {
    format: MODEL_FORMAT,
    arch: o.arch,
    stage: o.stage,
    num_classes: String(o.numClasses),
    in_channels: String(o.inChannels),
    image_size: String(o.imageSize),
    norm: JSON.stringify(o.norm),
  };
}

/** Write a model file: the model's state dict and `meta` (modelMetadata). */
export async function saveModelFile(path: string, model: Module, meta: Record<string, string>): Promise<void> {
  hostFiles('train.saveModelFile');
  writeFileAtomic(path, await encodeModelFile(model, meta));
}

/** A model file's bytes (what saveModelFile writes): for a download from a page. */
export async function encodeModelFile(model: Module, meta: Record<string, string>): Promise<Uint8Array> {
  return encodeSafetensors(await toHost(model.stateDict()), meta);
}

/** What a training checkpoint saves besides the model and the optimizer. */
export interface CheckpointState {
  stage: string;
  /** the stage's number (1 baseline, 2 stage 2): with the seed and the epoch, the data's RNG state */
  stageNum: number;
  arch: string;
  /** epochs completed */
  epoch: number;
  o: TrainOptions;
  history: EpochRecord[];
  norm: Normalization;
}

/** Write a training checkpoint: model, momentum, epoch, RNG state, configuration, history. */
export async function saveCheckpoint(path: string, model: Module, opt: SGD, s: CheckpointState): Promise<void> {
  hostFiles('train.saveCheckpoint');
  const host = await toHost(model.stateDict());
  const tensors: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(host)) tensors[`model.${k}`] = v;
  const os = await opt.stateDict();
  os.momentum.forEach((m, i) => (tensors[`optim.momentum.${i}`] = { dtype: 'f32', fileDtype: 'F32', shape: [m.length], data: m }));
  const meta = {
    format: CHECKPOINT_FORMAT,
    stage: s.stage,
    arch: s.arch,
    epoch: String(s.epoch),
    optim_step: String(os.step),
    // every epoch's data order and augmentation derive from (seed, stage, epoch): that is the RNG state
    rng: JSON.stringify({ seed: s.o.seed, stage: s.stageNum, next_epoch: s.epoch }),
    // the model's own random draws (dropout masks) so far
    random_state: JSON.stringify(model.randomState()),
    config: JSON.stringify(configKey(s.o)),
    history: JSON.stringify(s.history),
    norm: JSON.stringify(s.norm),
  };
  writeFileAtomic(path, encodeSafetensors(tensors, meta));
}

// ---- resuming -------------------------------------------------------------------------------

/** The options a resumed run must share with the run that wrote the checkpoint. */
export function configKey(o: TrainOptions) {
  return { arch: o.arch, baselineArch: o.baselineArch ?? o.arch, loss: o.loss, seed: o.seed, batchSize: o.batchSize, epochs: o.epochs, baselineEpochs: o.baselineEpochs ?? o.epochs, lr: o.lr, warmupSteps: o.warmupSteps ?? 0, trainLimit: o.trainLimit ?? null };
}

/** Refuse (DataError naming the file and the option) a checkpoint made with other options. */
export function checkResumeConfig(ck: CheckpointFile, o: TrainOptions): void {
  const saved = JSON.parse(ck.metadata.config ?? '{}') as Record<string, unknown>;
  const now = configKey(o) as Record<string, unknown>;
  for (const k of Object.keys(now)) {
    if (JSON.stringify(saved[k]) !== JSON.stringify(now[k])) {
      throw new DataError(ck.path, `--resume: this checkpoint was made with ${k} = ${JSON.stringify(saved[k])}, the command now says ${JSON.stringify(now[k])}; use the same flags or another --out`);
    }
  }
}

/** The epochs a stage's checkpoint records as done (the list in its metadata). */
export function checkpointHistory(ck: CheckpointFile): EpochRecord[] {
  return JSON.parse(ck.metadata.history ?? '[]');
}

/** The dropout draw counters a checkpoint saved (Module.loadRandomState). */
export function checkpointRandomState(ck: CheckpointFile): Record<string, number> {
  return JSON.parse(ck.metadata.random_state ?? '{}');
}

/** Load a checkpoint's momentum and step count into `opt` (built over the restored model). */
export function restoreOptimizer(ck: CheckpointFile, opt: SGD): void {
  const mom: Float32Array[] = [];
  for (let i = 0; ck.tensors[`optim.momentum.${i}`]; i++) mom.push(ck.tensors[`optim.momentum.${i}`].data as Float32Array);
  // (SGD's constructor encodes zero-fills of its arenas; gpu().write submits them before
  // loadStateDict's upload, so the momentum is not erased)
  opt.loadStateDict({ step: Number(ck.metadata.optim_step), momentum: mom });
}
