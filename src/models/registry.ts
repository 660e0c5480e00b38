// The architectures focusnet builds by name: one registry for the trainer (`train --arch`,
// `eval`) and the visualization commands (`cam`, `report`). Each entry knows
//   - its name, printed one way (lower case), and aliases; names match case-insensitively and
//     without underscores;
//   - how to build it for a data set: class count, input channels, image side (the small-input
//     rule below) and the seed of its initial weights;
//   - what a state dict fixes: the classifier's key (the class count of a file) and, for
//     MobileNetV2, the width multiplier (from its channel counts);
//   - where it splits into last feature maps and head, for class activation maps (an entry
//     without `split` has no convolutional feature maps: the MLP).
// Adding a network: its module in src/models/, and one entry here.

import { Tensor } from '../tensor/index.js';
import * as ops from '../ops/index.js';
import { FocusnetError, InputError } from '../errors.js';
import { Module } from '../nn/module.js';
import { lenet5, LeNet5 } from './lenet.js';
import { resnet18, resnet34, ResNet } from './resnet.js';
import { mobilenetV2, MobileNetV2, makeDivisible } from './mobilenet.js';
import { Mlp } from './mlp.js';

export const ARCHS = ['lenet5', 'resnet18', 'resnet34', 'mobilenetv2', 'mlp'] as const;
export type ArchName = (typeof ARCHS)[number];

/** What a network is built for. */
export interface ArchOptions {
  numClasses: number;
  inChannels: number;
  /** side of the (square) input images */
  imageSize: number;
  /** seed of the initial weights [0] */
  seed?: number;
  /** MobileNetV2's width multiplier [0.5 for small inputs, else 1] */
  widthMult?: number;
}

/** A network split at its last feature maps (viz's class activation maps). */
export interface FeatureSplit {
  /** x [1, Cin, H, W] → last feature maps [1, C, h, w] */
  features(x: Tensor): Tensor;
  /** feature maps [B, C, h, w] → logits [B, N] (batch-independent: eval mode) */
  head(f: Tensor): Tensor;
  /** for CAM: the final linear layer's weight [N, C], when the head is global average pooling + linear */
  fcWeight?: Tensor;
}

export interface ArchSpec {
  readonly name: ArchName;
  /** other spellings accepted (case-insensitively), e.g. torchvision's mobilenet_v2 */
  readonly aliases: readonly string[];
  build(o: ArchOptions): Module;
  /** state-dict key of the classifier's weight [numClasses, features] */
  readonly classifier: string;
  /** build options a state dict fixes besides the class count (keys → shapes) */
  fromStateDict?(shapes: Readonly<Record<string, readonly number[]>>): Partial<ArchOptions>;
  /** the feature/classifier split of a model built by `build` (throws for another model) */
  split?(model: Module): FeatureSplit;
}

/** An unknown architecture name (the command line's exit status 2). */
export class ArchError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'ArchError';
  }
}

/**
 * Whether the ResNet / MobileNetV2 for images of this side use the small-input variant
 * (`smallInput`: the paper's CIFAR models). Every model built by name follows this rule, so a
 * model rebuilt from its checkpoint has the structure it was trained with.
 */
export function smallInputFor(imageSize: number): boolean {
  return imageSize <= 64;
}

function cannotSplit(model: Module, arch: string): never {
  throw new FocusnetError(`focusnet: cannot split a ${model.constructor.name} as ${arch} (for the feature/classifier split)`);
}

function globalAvgPool(f: Tensor): Tensor {
  const [B, C, h, w] = f.shape;
  return ops.mean(ops.reshape(f, [B, C, h * w]), { axis: 2 });
}

const maxPool2 = (x: Tensor) => ops.maxPool2d(x, { kernelSize: 2 });

/** ResNet: features = conv1, bn1, relu, maxpool, layer1..layer4; head = GAP + fc (CAM). */
const splitResNet = (name: ArchName) => (model: Module): FeatureSplit => {
  if (!(model instanceof ResNet)) cannotSplit(model, name);
  const { conv1, bn1, maxpool, layers } = model;
  const sd = model.stateDict();
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
};

function buildResNet(make: typeof resnet18) {
  return (o: ArchOptions) => make({ numClasses: o.numClasses, inChannels: o.inChannels, smallInput: smallInputFor(o.imageSize), seed: o.seed ?? 0 });
}

const SPECS: readonly ArchSpec[] = [
  {
    name: 'lenet5',
    aliases: [],
    classifier: 'fc3.weight',
    build(o) {
      if (o.imageSize !== 28) throw new ArchError(`lenet5 takes 28×28 images (16×5×5 features before fc1), the data has ${o.imageSize}×${o.imageSize}; use --arch resnet18 or mobilenetv2`);
      return lenet5({ numClasses: o.numClasses, inChannels: o.inChannels, seed: o.seed ?? 0 });
    },
    // features = conv1, ReLU, max-pool, conv2, ReLU (conv2's activations, 16 × 10 × 10 for 28 × 28);
    // head = max-pool, flatten, fc1, ReLU, fc2, ReLU, fc3 (Grad-CAM: no GAP + linear head)
    split(model) {
      if (!(model instanceof LeNet5)) cannotSplit(model, 'lenet5');
      const { conv1, conv2, fc1, fc2, fc3 } = model;
      return {
        features: (x) => ops.relu(conv2.forward(maxPool2(ops.relu(conv1.forward(x))))),
        head: (f) => fc3.forward(ops.relu(fc2.forward(ops.relu(fc1.forward(ops.flatten(maxPool2(f), 1)))))),
      };
    },
  },
  { name: 'resnet18', aliases: [], classifier: 'fc.weight', build: buildResNet(resnet18), split: splitResNet('resnet18') },
  { name: 'resnet34', aliases: [], classifier: 'fc.weight', build: buildResNet(resnet34), split: splitResNet('resnet34') },
  {
    name: 'mobilenetv2',
    aliases: ['mobilenet_v2'], // torchvision's name
    classifier: 'classifier.1.weight',
    build(o) {
      const small = smallInputFor(o.imageSize);
      return mobilenetV2({ numClasses: o.numClasses, inChannels: o.inChannels, smallInput: small, widthMult: o.widthMult ?? (small ? 0.5 : 1), seed: o.seed ?? 0 });
    },
    // the width multiplier: the one whose stem (32·w) and last block (320·w, both rounded by
    // makeDivisible) have the file's channel counts (the stem alone is ambiguous: ×0.35 and ×0.5
    // both give 16), else the last block's 320·w itself
    fromStateDict(shapes) {
      const stem = shapes['features.0.0.weight']?.[0];
      const last = shapes['features.18.0.weight']?.[1];
      if (stem === undefined || last === undefined) return {};
      for (const w of [0.25, 0.35, 0.5, 0.75, 1, 1.3, 1.4]) if (makeDivisible(32 * w) === stem && makeDivisible(320 * w) === last) return { widthMult: w };
      return { widthMult: last / 320 };
    },
    // features = features; head = GAP + classifier (CAM)
    split(model) {
      if (!(model instanceof MobileNetV2)) cannotSplit(model, 'mobilenetv2');
      const feats = model.features;
      const sd = model.stateDict();
      const fcW = sd['classifier.1.weight'];
      const fcB = sd['classifier.1.bias'];
      return { features: (x) => feats.forward(x), head: (f) => ops.linear(globalAvgPool(f), fcW, fcB), fcWeight: fcW };
    },
  },
  {
    name: 'mlp',
    aliases: [],
    classifier: 'fc2.weight',
    build: (o) => new Mlp(o.inChannels * o.imageSize * o.imageSize, 64, o.numClasses, o.seed ?? 0),
  },
];

/** Names match case-insensitively and without underscores (mobilenetV2, MobileNet_V2, mobilenetv2). */
const key = (s: string) => s.toLowerCase().replace(/_/g, '');
const BY_NAME = new Map<string, ArchSpec>();
for (const s of SPECS) for (const n of [s.name, ...s.aliases]) BY_NAME.set(key(n), s);

/** The registry entry for `name` (case-insensitive, aliases included), or undefined. */
export function findArch(name: string): ArchSpec | undefined {
  return BY_NAME.get(key(name));
}

/**
 * The registry entry for `name`; an ArchError naming `where` (a flag such as
 * `focusnet train: --arch`) when it is not one of `among` (default: every architecture).
 */
export function archSpec(name: string, where = 'arch', among: readonly ArchName[] = ARCHS): ArchSpec {
  const s = findArch(name);
  if (!s || !among.includes(s.name)) throw new ArchError(`${where} ${name}: unknown architecture (one of ${among.join(', ')})`);
  return s;
}

/** The architectures whose models split for class activation maps. */
export const CAM_ARCHS: readonly ArchName[] = SPECS.filter((s) => s.split).map((s) => s.name);

/** Build architecture `arch` (any accepted spelling) for a data set. */
export function createModel(arch: string, o: ArchOptions): Module {
  return archSpec(arch).build(o);
}

/** Split a model built as `arch` at its last feature maps (see each entry). */
export function splitModel(arch: string, model: Module): FeatureSplit {
  const s = archSpec(arch);
  if (!s.split) throw new FocusnetError(`focusnet: cannot split a ${model.constructor.name} as ${s.name}: it has no convolutional feature maps`);
  return s.split(model);
}
