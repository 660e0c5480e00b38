// Building a network from a checkpoint, and splitting it at its last feature maps.
//
// The split knows each architecture's feature/classifier boundary by torchvision's
// module names (it does not change the models):
//   resnet18/34:  features = conv1, bn1, relu, maxpool, layer1..layer4; head = GAP + fc     (CAM)
//   mobilenetV2:  features = features;                                 head = GAP + classifier (CAM)
//   lenet5:       features = everything up to the last convolution (and its ReLU);
//                 head = the rest (pooling, flatten, linear layers)                        (Grad-CAM)
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
  if (!a) throw new VizInputError(`${flag} ${arch}: unknown architecture (one of ${ARCHS.join(', ')})`);
  return a;
}

type Factory = (opts: Record<string, unknown>) => ModuleLike;

/** Build `arch` and load a safetensors checkpoint into it (strictly); eval mode. Bad files → VizInputError. */
export async function loadModel(
  arch: Arch,
  file: string,
  opts: { numClasses: number; inChannels: number; imageSize: number; flag?: string },
): Promise<ModuleLike> {
  const flag = opts.flag ?? '--checkpoint';
  if (!existsSync(file)) throw new VizInputError(`${flag} ${file}: no such file`);
  const factory = (models as unknown as Record<string, Factory | undefined>)[arch];
  const load = (io as unknown as Record<string, ((p: string) => Record<string, Tensor> | Promise<Record<string, Tensor>>) | undefined>).loadSafetensors;
  if (typeof factory !== 'function' || typeof load !== 'function') {
    throw new Error(`focusnet: models.${arch} or io.loadSafetensors is not available in this build`);
  }
  let dict: Record<string, Tensor>;
  try {
    dict = await load(file);
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
  // The class count comes from the checkpoint's last layer when it has one.
  const last = dict['fc.weight'] ?? dict['classifier.1.weight'] ?? lastLinear(dict);
  const numClasses = last && last.rank === 2 ? last.shape[0] : opts.numClasses;
  const smallInput = opts.imageSize <= 64;
  const mopts: Record<string, unknown> =
    arch === 'lenet5'
      ? { numClasses, inChannels: opts.inChannels }
      : arch === 'mobilenetV2'
        ? { numClasses, smallInput, widthMult: mobilenetWidth(dict) }
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
  for (const w of [0.25, 0.35, 0.5, 0.75, 1, 1.3, 1.4]) if (makeDivisible(32 * w) === c) return w;
  return c / 32;
}

function makeDivisible(v: number, d = 8): number {
  const n = Math.max(d, Math.floor((v + d / 2) / d) * d);
  return n < 0.9 * v ? n + d : n;
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

function paramsOf(m: ModuleLike): Record<string, Tensor> {
  return m.stateDict();
}

/** Split a loaded model at its last feature maps (see the header comment). */
export function splitModel(arch: Arch, model: ModuleLike): FeatureSplit {
  const sd = paramsOf(model);
  if (arch === 'resnet18' || arch === 'resnet34') {
    const names = ['conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'];
    const stages = names.map((n) => [n, child(model, n)] as const);
    for (const n of ['conv1', 'bn1', 'layer1', 'layer2', 'layer3', 'layer4']) {
      if (!stages.find(([k, m]) => k === n && m)) throw new Error(`focusnet: cannot find module '${n}' in ${arch} (for the feature/classifier split)`);
    }
    const fcW = sd['fc.weight'];
    const fcB = sd['fc.bias'];
    return {
      features: (x) => {
        let y = x;
        for (const [n, m] of stages) {
          if (m) y = m.forward(y);
          else if (n === 'relu') y = ops.relu(y);
        }
        return y;
      },
      head: (f) => ops.linear(globalAvgPool(f), fcW, fcB),
      fcWeight: fcW,
    };
  }
  if (arch === 'mobilenetV2') {
    const feats = child(model, 'features');
    if (!feats) throw new Error(`focusnet: cannot find module 'features' in mobilenetV2`);
    const fcW = sd['classifier.1.weight'];
    const fcB = sd['classifier.1.bias'];
    if (!fcW) throw new Error(`focusnet: mobilenetV2 has no 'classifier.1.weight'`);
    return { features: (x) => feats.forward(x), head: (f) => ops.linear(globalAvgPool(f), fcW, fcB), fcWeight: fcW };
  }
  return sequentialSplit(model);
}

/** A sequential model (LeNet-5): leaf modules in order, split after the last convolution and its activation. */
function sequentialSplit(model: ModuleLike): FeatureSplit {
  const leaves: [string, ModuleLike & Obj][] = [];
  const walk = (m: unknown, prefix: string) => {
    const kids = namedChildren(m);
    if (!kids.length) {
      leaves.push([prefix, m as ModuleLike & Obj]);
      return;
    }
    for (const [k, c] of kids) walk(c, prefix ? `${prefix}.${k}` : k);
  };
  walk(model, '');
  const sd = model.stateDict();
  const rankOf = (name: string) => sd[`${name}.weight`]?.rank ?? 0;
  let lastConv = -1;
  leaves.forEach(([n], i) => {
    if (rankOf(n) === 4) lastConv = i;
  });
  if (lastConv < 0) throw new Error('focusnet: no convolution found in the model (Grad-CAM needs conv feature maps)');
  let cut = lastConv + 1;
  const isAct = (n: string, m: Obj) => /relu|tanh|sigmoid|act/i.test(n) || /relu|tanh|sigmoid/i.test(m.constructor?.name ?? '');
  while (cut < leaves.length && rankOf(leaves[cut][0]) === 0 && isAct(leaves[cut][0], leaves[cut][1]) && !/pool/i.test(leaves[cut][0])) cut++;
  const front = leaves.slice(0, cut).map(([, m]) => m);
  const back = leaves.slice(cut);
  return {
    features: (x) => front.reduce((y, m) => m.forward(y), x),
    head: (f) =>
      back.reduce((y, [n, m]) => {
        if (rankOf(n) === 2 && y.rank > 2) y = ops.flatten(y);
        return m.forward(y);
      }, f),
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

