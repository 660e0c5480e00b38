// The one checkpoint loader: a model file or a training checkpoint (src/train/checkpoint.ts)
// into a model, for `eval`, `train --baseline`, `--resume`, `cam` and `report`.
//   checkFit(model, tensors, prefix)   on the host: every key of the model present with its
//                                      shape and dtype, and no other key (a DataError listing
//                                      each offender);
//   loadInto(model, tensors, prefix)   checkFit, then the tensors under `prefix` into the model;
//   modelFromCheckpoint(ck, o)         build the registry's architecture the file describes (the
//                                      class count of its classifier, MobileNetV2's width) for
//                                      the data's channels and image side, and load it; a
//                                      trainer's file must say that architecture, channel count
//                                      and image side (a DataError naming the metadata field);
//   loadModelFile(path, o)             both, from a path (in a page: checkpointFromBytes, then
//                                      modelFromCheckpoint).
import { shapeStr } from '../tensor/index.js';
import { DataError } from '../data/errors.js';
import { archSpec } from '../models/registry.js';
import type { Module } from '../nn/module.js';
import { readCheckpoint, CheckpointFile } from './checkpoint.js';
import { toDevice, HostTensor } from './safetensors.js';
import { hostFiles } from '../platform/files.js';

const SHOWN = 12;

function listing(title: string, items: string[]): string {
  if (!items.length) return '';
  const shown = items.slice(0, SHOWN).map((k) => `\n    ${k}`).join('');
  return `\n  ${title} (${items.length}):${shown}${items.length > SHOWN ? `\n    ... and ${items.length - SHOWN} more` : ''}`;
}

/** The host tensors under `prefix`, the prefix removed. */
function selected(host: Record<string, HostTensor>, prefix: string): Record<string, HostTensor> {
  const sel: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(host)) if (k.startsWith(prefix)) sel[k.slice(prefix.length)] = v;
  return sel;
}

/**
 * Check on the host that the tensors under `prefix` fit `model`: every key of its state dict
 * with its shape and dtype, and no other key (a DataError listing each offender). `file` names
 * the source in errors, `arch` the architecture ("does not fit lenet5").
 */
export function checkFit(model: Module, host: Record<string, HostTensor>, prefix = '', file = 'checkpoint', arch?: string): void {
  const sel = selected(host, prefix);
  const own = model.stateDict();
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const [k, t] of Object.entries(own)) {
    const h = sel[k];
    if (!h) missing.push(prefix + k);
    else if (h.shape.join() !== t.shape.join() || h.dtype !== t.dtype) {
      mismatched.push(`${prefix}${k}: ${shapeStr(h.shape)} ${h.dtype} in the file, ${shapeStr(t.shape)} ${t.dtype} in the model`);
    }
  }
  const unexpected = Object.keys(sel).filter((k) => !(k in own)).sort().map((k) => prefix + k);
  if (missing.length || mismatched.length || unexpected.length) {
    throw new DataError(
      file,
      `does not fit ${arch ?? model.constructor.name} (wrong --arch or --baseline-arch, or a model of other data?):` +
        listing('missing tensors', missing) + listing('unexpected tensors', unexpected) + listing('shape or dtype mismatches', mismatched),
    );
  }
}

/**
 * Load the host tensors under `prefix` (the prefix removed) into `model`'s parameters and
 * buffers, after checkFit.
 */
export function loadInto(model: Module, host: Record<string, HostTensor>, prefix = '', file = 'checkpoint', arch?: string): void {
  checkFit(model, host, prefix, file, arch);
  const sel = selected(host, prefix);
  const own = model.stateDict();
  const dev = toDevice(Object.fromEntries(Object.keys(own).map((k) => [k, sel[k]])));
  model.loadStateDict(dev); // copies into the model's own tensors
  for (const t of Object.values(dev)) t.dispose();
}

export interface ModelFromCheckpointOptions {
  /** the architecture (any spelling the registry accepts) */
  arch: string;
  /** how errors name the architecture's source, e.g. 'focusnet cam: --arch' */
  archFlag?: string;
  /** the data's class count, input channels and image side */
  numClasses: number;
  inChannels: number;
  imageSize: number;
  /** the file's class count must be the data's (train, eval); otherwise the file's wins (cam, report) */
  matchClasses?: boolean;
}

/**
 * What a trainer's file says against what it is loaded for (a DataError naming the field): the
 * architecture, and the input channels and image side of a model file (a state dict of another
 * format says nothing, and its tensors decide).
 */
function checkMetadataFits(ck: CheckpointFile, arch: string, o: ModelFromCheckpointOptions): void {
  const { info } = ck;
  if (info.kind === 'state-dict') return;
  if (info.arch && info.arch !== arch) throw new DataError(ck.path, `metadata field 'arch': the file holds a ${info.arch}, ${o.archFlag ?? 'the architecture asked for'} is ${arch}`);
  if (info.inChannels !== undefined && info.inChannels !== o.inChannels) {
    throw new DataError(ck.path, `metadata field 'in_channels': the model takes ${info.inChannels}-channel images, the data's have ${o.inChannels}`);
  }
  if (info.imageSize !== undefined && info.imageSize !== o.imageSize) {
    throw new DataError(ck.path, `metadata field 'image_size': the model was trained on ${info.imageSize}×${info.imageSize} images, the data's are ${o.imageSize}×${o.imageSize}`);
  }
}

/** Build the architecture `o.arch` as the checkpoint describes it and load the checkpoint into it (eval mode). */
export function modelFromCheckpoint(ck: CheckpointFile, o: ModelFromCheckpointOptions): Module {
  const spec = archSpec(o.arch, o.archFlag);
  checkMetadataFits(ck, spec.name, o);
  const shapes: Record<string, readonly number[]> = {};
  for (const [k, t] of Object.entries(ck.tensors)) if (k.startsWith(ck.prefix)) shapes[k.slice(ck.prefix.length)] = t.shape;
  const cls = shapes[spec.classifier];
  const numClasses = cls && cls.length === 2 ? cls[0] : o.numClasses;
  if (o.matchClasses && numClasses !== o.numClasses) {
    throw new DataError(ck.path, `is a ${spec.name} for ${numClasses} classes (${ck.prefix}${spec.classifier} ${shapeStr(cls!)}), the data has ${o.numClasses}`);
  }
  const model = spec.build({ numClasses, inChannels: o.inChannels, imageSize: o.imageSize, ...spec.fromStateDict?.(shapes) });
  try {
    loadInto(model, ck.tensors, ck.prefix, ck.path, spec.name);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model.eval();
}

/** readCheckpoint + modelFromCheckpoint. */
export function loadModelFile(path: string, o: ModelFromCheckpointOptions): Module {
  hostFiles('train.loadModelFile');
  return modelFromCheckpoint(readCheckpoint(path), o);
}
