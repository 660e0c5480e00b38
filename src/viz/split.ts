// Building a network from a checkpoint, and splitting it at its last feature maps.
//
// The split knows each architecture's feature/classifier boundary by torchvision's
// module names (it does not change the models):
//   resnet18/34:  features = conv1, bn1, relu, maxpool, layer1..layer4; head = GAP + fc     (CAM)
//   mobilenetV2:  features = features;                                 head = GAP + classifier (CAM)
//   lenet5:       features = conv1, ReLU, max-pool, conv2, ReLU (conv2's activations);
//                 head = max-pool, flatten, fc1, ReLU, fc2, ReLU, fc3                      (Grad-CAM)
// After splitting, head(features(x)) is checked against forward(x) on the image, so a
// model whose structure differs from what is expected fails loudly instead of giving
// a wrong map.

import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import * as ops from '../ops/index.js';
import * as models from '../models/index.js';
import * as io from '../io/index.js';
import { FeatureSplit } from './cam.js';
import { VizInputError } from './errors.js';
import { smallInputFor } from '../train/arch.js';
import { existsSync } from 'node:fs';

/** What the visualization needs from an nn.Module (api.md's contract). */
export interface ModuleLike {
  forward(x: Tensor): Tensor;
  eval(): unknown;
  stateDict(): Record<string, Tensor>;
  loadStateDict(dict: Record<string, Tensor>): unknown;
}

export const ARCHS = ['lenet5', 'resnet18', 'resnet34', 'mobilenetV2'] as const;
export type Arch = (typeof ARCHS)[number];

export function checkArch(arch: string | undefined, flag = '--arch'): Arch {
  if (!arch) throw new VizInputError(`${flag} is required (one of ${ARCHS.join(', ')})`);
  const a = ARCHS.find((x) => x.toLowerCase() === arch.toLowerCase() || x.toLowerCase() === arch.toLowerCase().replace(/_/g, ''));
  if (arch.toLowerCase() === 'mlp') throw new VizInputError(`${flag} mlp: an MLP has no convolutional feature maps to draw activation maps from (one of ${ARCHS.join(', ')})`);
  if (!a) throw new VizInputError(`${flag} ${arch}: unknown architecture (one of ${ARCHS.join(', ')})`);
  return a;
}

type Factory = (opts: Record<string, unknown>) => ModuleLike;

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
): Promise<ModuleLike> {
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
): ModuleLike {
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

// ---- finding submodules by name ---------------------------------------------------------------

type Obj = Record<string, unknown>;

function isModule(m: unknown): m is ModuleLike & Obj {
  return !!m && typeof m === 'object' && typeof (m as ModuleLike).forward === 'function';
}

/** Named child modules in registration order (whatever the Module implementation stores them in). */
export function namedChildren(m: unknown): [string, ModuleLike & Obj][] {
  if (!isModule(m)) return [];
  const o = m as Obj;
  const fromIter = (v: unknown): [string, ModuleLike & Obj][] | null => {
    if (v instanceof Map) return [...v.entries()].filter(([, c]) => isModule(c)) as [string, ModuleLike & Obj][];
    if (Array.isArray(v)) {
      if (v.every((e) => Array.isArray(e) && e.length === 2)) return (v as [string, unknown][]).filter(([, c]) => isModule(c)) as [string, ModuleLike & Obj][];
      if (v.every(isModule)) return v.map((c, i) => [String(i), c]);
    }
    if (v && typeof v === 'object' && !isModule(v)) {
      const es = Object.entries(v as Obj).filter(([, c]) => isModule(c));
      if (es.length) return es as [string, ModuleLike & Obj][];
    }
    return null;
  };
  for (const key of ['namedChildren', 'children']) {
    const f = o[key];
    if (typeof f === 'function') {
      try {
        const v = f.call(m) as unknown;
        const r = fromIter(Array.isArray(v) || v instanceof Map || !(v && typeof v === 'object' && Symbol.iterator in v) ? v : [...(v as Iterable<unknown>)]);
        if (r && r.length) return r;
      } catch {
        /* try the next representation */
      }
    } else {
      const r = fromIter(f);
      if (r && r.length) return r;
    }
  }
  for (const key of ['_modules', 'modules', 'submodules', 'layers']) {
    const r = fromIter(o[key]);
    if (r && r.length) return r;
  }
  return Object.entries(o).filter(([k, v]) => !k.startsWith('_') && isModule(v)) as [string, ModuleLike & Obj][];
}

export function child(m: unknown, path: string): (ModuleLike & Obj) | null {
  let cur: unknown = m;
  for (const part of path.split('.')) {
    const kids = namedChildren(cur);
    const hit = kids.find(([k]) => k === part);
    if (!hit) return null;
    cur = hit[1];
  }
  return isModule(cur) ? cur : null;
}

function globalAvgPool(f: Tensor): Tensor {
  const [B, C, h, w] = f.shape;
  return ops.mean(ops.reshape(f, [B, C, h * w]), { axis: 2 });
}

type Fwd = ModuleLike & { forward(x: Tensor, o?: unknown): Tensor };

/** A submodule by name: a registered child, else a public property holding a module. */
function part(m: ModuleLike, name: string, arch: string, optional = false): Fwd | null {
  const c = child(m, name) ?? ((m as unknown as Obj)[name] as Fwd | null | undefined);
  if (isModule(c)) return c as Fwd;
  if (!optional) throw new Error(`focusnet: cannot find module '${name}' in ${arch} (for the feature/classifier split)`);
  return null;
}

function maxPool2(x: Tensor): Tensor {
  return ops.maxPool2d(x, { kernelSize: 2 });
}

/** Split a loaded model at its last feature maps (see the header comment). */
export function splitModel(arch: Arch, model: ModuleLike): FeatureSplit {
  const sd = model.stateDict();
  if (arch === 'resnet18' || arch === 'resnet34') {
    const conv1 = part(model, 'conv1', arch)!;
    const bn1 = part(model, 'bn1', arch)!;
    const maxpool = part(model, 'maxpool', arch, true);
    const layers = [1, 2, 3, 4].map((i) => part(model, `layer${i}`, arch)!);
    const fcW = sd['fc.weight'];
    const fcB = sd['fc.bias'];
    if (!fcW) throw new Error(`focusnet: ${arch} has no 'fc.weight'`);
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
  if (arch === 'mobilenetV2') {
    const feats = part(model, 'features', arch)!;
    const fcW = sd['classifier.1.weight'];
    const fcB = sd['classifier.1.bias'];
    if (!fcW) throw new Error(`focusnet: mobilenetV2 has no 'classifier.1.weight'`);
    return { features: (x) => feats.forward(x), head: (f) => ops.linear(globalAvgPool(f), fcW, fcB), fcWeight: fcW };
  }
  // LeNet-5: conv1 → ReLU → pool → conv2 → ReLU | pool → flatten → fc1 → ReLU → fc2 → ReLU → fc3.
  // Grad-CAM's feature maps are conv2's activations (16 × 10 × 10 for a 28 × 28 input).
  const [conv1, conv2, fc1, fc2, fc3] = ['conv1', 'conv2', 'fc1', 'fc2', 'fc3'].map((n) => part(model, n, arch)!);
  return {
    features: (x) => ops.relu(conv2.forward(maxPool2(ops.relu(conv1.forward(x))))),
    head: (f) => fc3.forward(ops.relu(fc2.forward(ops.relu(fc1.forward(ops.flatten(maxPool2(f), 1)))))),
  };
}

/** forward(x) and head(features(x)) must agree, or the split is wrong for this model. */
export async function verifySplit(model: ModuleLike, split: FeatureSplit, x: Tensor, what: string): Promise<Float32Array> {
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

