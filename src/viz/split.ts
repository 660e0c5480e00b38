// Building a network from a checkpoint, and splitting it at its last feature maps.
//
// The split knows each architecture's feature/classifier boundary by the models' own
// submodules (models.ResNet, MobileNetV2, LeNet5; torchvision's names; the models are
// not changed):
//   resnet18/34:  features = conv1, bn1, relu, maxpool, layer1..layer4; head = GAP + fc     (CAM)
//   mobilenetV2:  features = features;                                 head = GAP + classifier (CAM)
//   lenet5:       features = conv1, ReLU, max-pool, conv2, ReLU (conv2's activations);
//                 head = max-pool, flatten, fc1, ReLU, fc2, ReLU, fc3                      (Grad-CAM)
// After splitting, head(features(x)) is checked against forward(x) on the image, so a
// model whose structure differs from what is expected fails loudly instead of giving
// a wrong map.

import { Tensor } from '../tensor/index.js';
import { Module } from '../nn/module.js';
import { noGrad } from '../autograd/tape.js';
import * as ops from '../ops/index.js';
import * as models from '../models/index.js';
import * as io from '../io/index.js';
import { FeatureSplit } from './cam.js';
import { VizInputError } from './errors.js';
import { smallInputFor } from '../train/arch.js';
import { existsSync } from 'node:fs';

export const ARCHS = ['lenet5', 'resnet18', 'resnet34', 'mobilenetV2'] as const;
export type Arch = (typeof ARCHS)[number];

export function checkArch(arch: string | undefined, flag = '--arch'): Arch {
  if (!arch) throw new VizInputError(`${flag} is required (one of ${ARCHS.join(', ')})`);
  const a = ARCHS.find((x) => x.toLowerCase() === arch.toLowerCase() || x.toLowerCase() === arch.toLowerCase().replace(/_/g, ''));
  if (arch.toLowerCase() === 'mlp') throw new VizInputError(`${flag} mlp: an MLP has no convolutional feature maps to draw activation maps from (one of ${ARCHS.join(', ')})`);
  if (!a) throw new VizInputError(`${flag} ${arch}: unknown architecture (one of ${ARCHS.join(', ')})`);
  return a;
}

type Factory = (opts: Record<string, unknown>) => Module;

export interface CheckpointInfo {
  /** the trainer's metadata (focusnet-model files): arch, num_classes, in_channels, image_size, norm */
  arch?: string;
  numClasses?: number;
  imageSize?: number;
  norm?: { mean: number[]; std: number[] };
}

/** What the trainer wrote into a model file's safetensors metadata (empty when none). */
export function checkpointInfo(file: string): CheckpointInfo {
  let meta: Record<string, string> | null = null;
  try {
    meta = io.readSafetensorsMetadata(file);
  } catch {
    return {}; // reported by loadModel
  }
  if (!meta) return {};
  const info: CheckpointInfo = {};
  if (meta.arch) info.arch = meta.arch;
  if (meta.num_classes && /^\d+$/.test(meta.num_classes)) info.numClasses = Number(meta.num_classes);
  if (meta.image_size && /^\d+$/.test(meta.image_size)) info.imageSize = Number(meta.image_size);
  if (meta.norm) {
    try {
      const n = JSON.parse(meta.norm);
      if (Array.isArray(n?.mean) && Array.isArray(n?.std)) info.norm = { mean: n.mean.map(Number), std: n.std.map(Number) };
    } catch {
      /* no usable normalisation: the caller computes it from the data */
    }
  }
  return info;
}

/** Build `arch` and load a safetensors checkpoint into it (strictly); eval mode. Bad files → VizInputError. */
export async function loadModel(
  arch: Arch,
  file: string,
  opts: { numClasses: number; inChannels: number; imageSize: number; flag?: string },
): Promise<Module> {
  const flag = opts.flag ?? '--checkpoint';
  if (!existsSync(file)) throw new VizInputError(`${flag} ${file}: no such file`);
  const factory = models[arch] as Factory;
  let dict: Record<string, Tensor>;
  try {
    dict = io.loadSafetensors(file);
  } catch (e) {
    throw new VizInputError(`${flag} ${file}: not a readable safetensors file (${(e as Error).message})`);
  }
  return buildWith(factory, arch, dict, file, flag, opts);
}

function buildWith(
  factory: Factory,
  arch: Arch,
  dict: Record<string, Tensor>,
  file: string,
  flag: string,
  opts: { numClasses: number; inChannels: number; imageSize: number },
): Module {
  // A training checkpoint (checkpoint-*.safetensors) holds the model under 'model.' and the optimizer under 'optim.'.
  const keys = Object.keys(dict);
  if (keys.length && keys.every((k) => k.startsWith('model.') || k.startsWith('optim.'))) {
    const inner: Record<string, Tensor> = {};
    for (const k of keys) {
      if (k.startsWith('model.')) inner[k.slice(6)] = dict[k];
      else dict[k].dispose();
    }
    dict = inner;
  }
  // The class count comes from the checkpoint's last layer when it has one.
  const last = dict['fc.weight'] ?? dict['classifier.1.weight'] ?? lastLinear(dict);
  const numClasses = last && last.rank === 2 ? last.shape[0] : opts.numClasses;
  const smallInput = smallInputFor(opts.imageSize);
  const mopts: Record<string, unknown> =
    arch === 'lenet5'
      ? { numClasses, inChannels: opts.inChannels }
      : arch === 'mobilenetV2'
        ? { numClasses, inChannels: opts.inChannels, smallInput, widthMult: mobilenetWidth(dict) }
        : { numClasses, inChannels: opts.inChannels, smallInput };
  const model = factory(mopts);
  try {
    model.loadStateDict(dict);
  } catch (e) {
    throw new VizInputError(`${flag} ${file} does not fit ${arch}: ${(e as Error).message}`);
  } finally {
    for (const t of Object.values(dict)) if (t instanceof Tensor) t.dispose();
  }
  model.eval();
  return model;
}

function lastLinear(dict: Record<string, Tensor>): Tensor | undefined {
  const ws = Object.keys(dict).filter((k) => k.endsWith('.weight') && dict[k].rank === 2);
  return ws.length ? dict[ws[ws.length - 1]] : undefined;
}

/** MobileNetV2's width multiplier from the stem's channel count (32 · width, rounded to 8). */
function mobilenetWidth(dict: Record<string, Tensor>): number {
  const stem = dict['features.0.0.weight'];
  if (!stem) return 1;
  const c = stem.shape[0];
  for (const w of [0.25, 0.35, 0.5, 0.75, 1, 1.3, 1.4]) if (models.makeDivisible(32 * w) === c) return w;
  return c / 32;
}

function globalAvgPool(f: Tensor): Tensor {
  const [B, C, h, w] = f.shape;
  return ops.mean(ops.reshape(f, [B, C, h * w]), { axis: 2 });
}

function maxPool2(x: Tensor): Tensor {
  return ops.maxPool2d(x, { kernelSize: 2 });
}

/** Split a loaded model at its last feature maps (see the header comment). */
export function splitModel(arch: Arch, model: Module): FeatureSplit {
  const sd = model.stateDict();
  if ((arch === 'resnet18' || arch === 'resnet34') && model instanceof models.ResNet) {
    const { conv1, bn1, maxpool, layers } = model;
    const fcW = sd['fc.weight'];
    const fcB = sd['fc.bias'];
    return {
      features: (x) => {
        let y = ops.relu(bn1.forward(conv1.forward(x)));
        if (maxpool) y = maxpool.forward(y);
        for (const l of layers) y = l.forward(y);
        return y;
      },
      head: (f) => ops.linear(globalAvgPool(f), fcW, fcB),
      fcWeight: fcW,
    };
  }
  if (arch === 'mobilenetV2' && model instanceof models.MobileNetV2) {
    const feats = model.features;
    const fcW = sd['classifier.1.weight'];
    const fcB = sd['classifier.1.bias'];
    return { features: (x) => feats.forward(x), head: (f) => ops.linear(globalAvgPool(f), fcW, fcB), fcWeight: fcW };
  }
  if (arch === 'lenet5' && model instanceof models.LeNet5) {
    // LeNet-5: conv1 → ReLU → pool → conv2 → ReLU | pool → flatten → fc1 → ReLU → fc2 → ReLU → fc3.
    // Grad-CAM's feature maps are conv2's activations (16 × 10 × 10 for a 28 × 28 input).
    const { conv1, conv2, fc1, fc2, fc3 } = model;
    return {
      features: (x) => ops.relu(conv2.forward(maxPool2(ops.relu(conv1.forward(x))))),
      head: (f) => fc3.forward(ops.relu(fc2.forward(ops.relu(fc1.forward(ops.flatten(maxPool2(f), 1)))))),
    };
  }
  throw new Error(`focusnet: cannot split a ${model.constructor.name} as ${arch} (for the feature/classifier split)`);
}

/** forward(x) and head(features(x)) must agree, or the split is wrong for this model. */
export async function verifySplit(model: Module, split: FeatureSplit, x: Tensor, what: string): Promise<Float32Array> {
  const [a, b] = noGrad(() => {
    const z = model.forward(x);
    const f = split.features(x);
    const z2 = split.head(f);
    f.dispose();
    return [z, z2];
  });
  const za = (await a.read()) as Float32Array;
  const zb = (await b.read()) as Float32Array;
  a.dispose();
  b.dispose();
  let scale = 1e-3;
  for (const v of za) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < za.length; i++) {
    if (!(Math.abs(za[i] - zb[i]) <= 1e-3 * scale)) {
      throw new Error(`focusnet: the feature/classifier split of ${what} does not reproduce its forward pass (logit ${i}: ${za[i]} vs ${zb[i]})`);
    }
  }
  return za;
}

