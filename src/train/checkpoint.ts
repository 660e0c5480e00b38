// The trainer's files, in the safetensors format (src/io/safetensors.ts), and what they hold:
//   model file (baseline.safetensors, <stage 2>.safetensors): the state dict under its own
//     keys; metadata format 'focusnet-model', arch, stage, num_classes, in_channels,
//     image_size, norm (JSON { mean, std }).
//   training checkpoint (checkpoint-<stage>.safetensors, after every epoch): the model under
//     'model.', the SGD momentum as 'optim.momentum.<i>'; metadata format 'focusnet-checkpoint',
//     stage, arch, epoch, optim_step, rng, random_state, config, history, norm, data (the data
//     set's fingerprint).
//   any other safetensors file (torchvision's, io.saveSafetensors'): a bare state dict.
// Both of the trainer's files carry a `checksum` (SHA-256 of the other metadata fields and every
// tensor's name, dtype, shape and values), so a flipped byte or an edited field is found when the
// file is read (a file without one, from an older focusnet, is read unverified).
// Files are written atomically (writeFileAtomic; encodeModelFile gives a page the bytes).
// Reading: readCheckpoint (the whole file, on the host; checkpointFromBytes for bytes a page
// fetched) or readCheckpointInfo (the header only). Every metadata field is parsed and checked
// in one place, checkpointInfo() (metadata.ts); readCheckpoint then checks the fields against
// the tensors (the classifier's class count, the checkpoint's key layout, the momentum's dtype)
// and that every value is finite.
// What `--resume` checks against the command and the data is in resume.ts.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { readSafetensorsMetadata, SafetensorsError } from '../io/safetensors.js';
import { DataError } from '../data/errors.js';
import type { Normalization } from '../data/loader.js';
import type { DataFingerprint } from '../data/fingerprint.js';
import { OpError } from '../errors.js';
import { archSpec } from '../models/registry.js';
import type { Module } from '../nn/module.js';
import type { SGD } from '../optim/sgd.js';
import type { EpochRecord } from './options.js';
import { checkpointInfo, CheckpointInfo, MODEL_FORMAT, CHECKPOINT_FORMAT } from './metadata.js';
import { decodeSafetensorsFile, encodeSafetensors, readSafetensorsFile, toHost, writeFileAtomic, HostTensor } from './safetensors.js';
import { hostFiles } from '../platform/files.js';

export { checkpointInfo, MODEL_FORMAT, CHECKPOINT_FORMAT };
export type { CheckpointInfo };

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

/**
 * The metadata of a file from its header alone. A file that cannot be read or is not valid
 * safetensors gives no information (reading it fully reports why); metadata of a trainer's
 * file that is damaged is a DataError naming the field.
 */
export function readCheckpointInfo(path: string): CheckpointInfo {
  hostFiles('train.readCheckpointInfo');
  let meta: Record<string, string> | null;
  try {
    meta = readSafetensorsMetadata(path);
  } catch (e) {
    if (e instanceof SafetensorsError) return checkpointInfo(null, path);
    throw e;
  }
  return checkpointInfo(meta, path);
}

const MOMENTUM = /^optim\.momentum\.(\d+)$/;

/** The tensors of a trainer's file against its metadata, and every value finite (DataError naming the file). */
function checkTensors(path: string, info: CheckpointInfo, tensors: Record<string, HostTensor>, prefix: string): void {
  const keys = Object.keys(tensors);
  for (const k of keys) {
    const d = tensors[k].data;
    if (d instanceof Float32Array) {
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) throw new DataError(path, `tensor '${k}' holds ${d[i]} at index ${i}: a model or checkpoint with non-finite values cannot be used`);
      }
    }
  }
  if (info.kind === 'checkpoint') {
    const moms: number[] = [];
    for (const k of keys) {
      const m = MOMENTUM.exec(k);
      if (m) moms.push(Number(m[1]));
      else if (!k.startsWith('model.')) throw new DataError(path, `tensor '${k}' is neither a model tensor ('model.…') nor SGD momentum ('optim.momentum.<i>')`);
    }
    moms.sort((a, b) => a - b);
    if (moms.some((v, i) => v !== i)) throw new DataError(path, `the SGD momentum tensors are numbered ${moms.join(', ')}, not 0..${moms.length - 1}`);
    for (const i of moms) {
      const t = tensors[`optim.momentum.${i}`];
      if (t.dtype !== 'f32' || t.shape.length !== 1) throw new DataError(path, `tensor 'optim.momentum.${i}' is ${t.fileDtype} [${t.shape.join(', ')}], SGD momentum is F32 of one dimension`);
    }
    const momentum = info.training?.config.momentum;
    if (momentum === 0 && moms.length) throw new DataError(path, `holds SGD momentum tensors, but its configuration has momentum 0`);
    if (typeof momentum === 'number' && momentum > 0 && !moms.length) throw new DataError(path, `has no SGD momentum tensors ('optim.momentum.0'), but its configuration has momentum ${momentum}`);
  }
  if (info.kind === 'state-dict' || !info.arch) return;
  const key = prefix + archSpec(info.arch).classifier;
  const cls = tensors[key];
  if (!cls || cls.shape.length !== 2) throw new DataError(path, `a ${info.arch} needs its classifier '${key}' as a matrix; the file has ${cls ? `[${cls.shape.join(', ')}]` : 'none'}`);
  if (info.numClasses !== undefined && cls.shape[0] !== info.numClasses) {
    throw new DataError(path, `metadata field 'num_classes': ${info.numClasses}, but the classifier '${key}' [${cls.shape.join(', ')}] has ${cls.shape[0]} classes`);
  }
}

/** The checksum of a trainer's file: SHA-256 of its metadata (but the checksum) and tensors. */
function contentChecksum(meta: Record<string, string>, tensors: Record<string, HostTensor>): string {
  const h = sha256.create();
  const fields = Object.keys(meta).filter((k) => k !== 'checksum').sort();
  h.update(utf8ToBytes(JSON.stringify(fields.map((k) => [k, meta[k]]))));
  for (const k of Object.keys(tensors).sort()) {
    const t = tensors[k];
    h.update(utf8ToBytes(`\n${JSON.stringify([k, t.dtype, t.shape])}\n`));
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return `sha256:${bytesToHex(h.digest())}`;
}

/** A trainer's file's bytes: the tensors and `meta` with its checksum. */
function encodeTrainerFile(tensors: Record<string, HostTensor>, meta: Record<string, string>): Uint8Array {
  return encodeSafetensors(tensors, { ...meta, checksum: contentChecksum(meta, tensors) });
}

/** A trainer's file that records a checksum must match it (DataError naming the field). */
function verifyChecksum(path: string, meta: Record<string, string>, tensors: Record<string, HostTensor>): void {
  const saved = meta.checksum;
  if (saved === undefined) return; // written before checksums (unverified)
  if (!/^sha256:[0-9a-f]{64}$/.test(saved)) throw new DataError(path, `metadata field 'checksum': ${JSON.stringify(saved.slice(0, 80))} is not 'sha256:' and 64 hex digits`);
  if (contentChecksum(meta, tensors) !== saved) {
    throw new DataError(path, `metadata field 'checksum': the file's metadata and tensors do not match it (damaged on disk, or edited after it was written)`);
  }
}

/**
 * Read a model file or a training checkpoint into host memory (a DataError naming the file
 * when it cannot be read, is not valid safetensors, or its metadata or tensors are damaged).
 * A file whose every key starts with 'model.' or 'optim.' is a training checkpoint even
 * without its metadata (its model can be loaded; it cannot be resumed).
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
  const prefix = asCheckpoint ? 'model.' : '';
  checkTensors(path, info, tensors, prefix);
  if (info.kind !== 'state-dict') verifyChecksum(path, metadata, tensors);
  return { path, info, metadata, tensors, prefix };
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
  return encodeTrainerFile(await toHost(model.stateDict()), meta);
}

/** What a training checkpoint saves besides the model and the optimizer. */
export interface CheckpointState {
  stage: string;
  /** the stage's number (1 baseline, 2 stage 2): with the seed and the epoch, the data's RNG state */
  stageNum: number;
  arch: string;
  /** epochs completed */
  epoch: number;
  /** the run's seed */
  seed: number;
  /** the options a resumed run must share (resume.ts configKey) */
  config: Record<string, unknown>;
  /** the fingerprint of the data set the run trains on */
  data: DataFingerprint;
  history: EpochRecord[];
  norm: Normalization;
}

/** Write a training checkpoint: model, momentum, epoch, RNG state, configuration, history, data. */
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
    rng: JSON.stringify({ seed: s.seed, stage: s.stageNum, next_epoch: s.epoch }),
    // the model's own random draws (dropout masks) so far
    random_state: JSON.stringify(model.randomState()),
    config: JSON.stringify(s.config),
    history: JSON.stringify(s.history),
    norm: JSON.stringify(s.norm),
    data: JSON.stringify(s.data),
  };
  writeFileAtomic(path, encodeTrainerFile(tensors, meta));
}

// ---- restoring ------------------------------------------------------------------------------

/** The checkpoint's training state (a DataError when the file is not a training checkpoint). */
export function trainingState(ck: CheckpointFile) {
  if (!ck.info.training) throw new DataError(ck.path, `metadata field 'format': ${JSON.stringify(ck.metadata.format ?? null)}: not a training checkpoint ('${CHECKPOINT_FORMAT}'), so it cannot be resumed`);
  return ck.info.training;
}

/** Restore the dropout draw counters a checkpoint saved into `model` (DataError naming the field). */
export function restoreRandomState(ck: CheckpointFile, model: Module): void {
  try {
    model.loadRandomState(trainingState(ck).randomState);
  } catch (e) {
    if (e instanceof OpError) throw new DataError(ck.path, `metadata field 'random_state': ${e.message.replace(/^loadRandomState: /, '')}`);
    throw e;
  }
}

/** Load a checkpoint's momentum and step count into `opt` (built over the restored model). */
export function restoreOptimizer(ck: CheckpointFile, opt: SGD): void {
  const mom: Float32Array[] = [];
  for (let i = 0; ck.tensors[`optim.momentum.${i}`]; i++) mom.push(ck.tensors[`optim.momentum.${i}`].data as Float32Array);
  // (SGD's constructor encodes zero-fills of its arenas; gpu().write submits them before
  // loadStateDict's upload, so the momentum is not erased)
  try {
    opt.loadStateDict({ step: trainingState(ck).optimStep, momentum: mom });
  } catch (e) {
    if (e instanceof OpError) throw new DataError(ck.path, `the SGD momentum tensors ('optim.momentum.<i>') do not fit the model: ${e.message.replace(/^SGD\.loadStateDict: /, '')}`);
    throw e;
  }
}
