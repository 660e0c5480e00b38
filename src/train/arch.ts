// Architectures the trainer can build, by name. The networks themselves live
// in `models` (LeNet-5, ResNet-18/34, MobileNetV2); `mlp` is a small
// two-layer perceptron kept here for quick runs and the trainer's own tests.
import * as models from '../models/index.js';
import { Tensor, keep, tensor, Shape } from '../tensor/tensor.js';
import { linear, flatten, relu, assign } from '../ops/index.js';
import { Sfc32 } from '../util/rng.js';
import { FocusnetError } from '../gpu/errors.js';
import { Dropout } from '../nn/index.js';

/** What the trainer needs from a network (the contract of models' Module). */
export interface ModuleLike {
  forward(x: Tensor): Tensor;
  train(): unknown;
  eval(): unknown;
  parameters(): Iterable<Tensor>;
  stateDict(): Record<string, Tensor>;
  loadStateDict(dict: Record<string, Tensor>): unknown;
  /** draw counters of the modules that use randomness (dropout), saved in checkpoints */
  randomState(): Record<string, number>;
  loadRandomState(state: Record<string, number>): void;
}

export interface ArchOptions {
  numClasses: number;
  inChannels: number;
  /** side of the (square) input images */
  imageSize: number;
  /** seed of the initial weights */
  seed?: number;
}

export const ARCHS = ['lenet5', 'resnet18', 'resnet34', 'mobilenetv2', 'mlp'] as const;
export type ArchName = (typeof ARCHS)[number];

export class ArchError extends FocusnetError {
  constructor(message: string) {
    super(message);
    this.name = 'ArchError';
  }
}


/**
 * Whether the ResNet / MobileNetV2 of a data set with images of this side use the
 * small-input variant (`smallInput`: 3×3 stride-1 stem, no max-pool; the paper's CIFAR
 * models). The trainer builds models by this rule, and code that rebuilds a trained model
 * from its checkpoint (viz) must use the same one.
 */
export function smallInputFor(imageSize: number): boolean {
  return imageSize <= 64;
}

export function createModel(arch: string, o: ArchOptions): ModuleLike {
  const small = smallInputFor(o.imageSize);
  switch (arch.toLowerCase()) {
    case 'mlp':
      return new Mlp(o.inChannels * o.imageSize * o.imageSize, 64, o.numClasses, o.seed ?? 0);
    case 'lenet5':
      if (o.imageSize !== 28) throw new ArchError(`lenet5 takes 28×28 images (16×5×5 features before fc1), the data has ${o.imageSize}×${o.imageSize}; use --arch resnet18 or mobilenetv2`);
      return models.lenet5({ numClasses: o.numClasses, inChannels: o.inChannels, seed: o.seed ?? 0 });
    case 'resnet18':
      return models.resnet18({ numClasses: o.numClasses, inChannels: o.inChannels, smallInput: small, seed: o.seed ?? 0 });
    case 'resnet34':
      return models.resnet34({ numClasses: o.numClasses, inChannels: o.inChannels, smallInput: small, seed: o.seed ?? 0 });
    case 'mobilenetv2':
      return models.mobilenetV2({ numClasses: o.numClasses, inChannels: o.inChannels, smallInput: small, widthMult: small ? 0.5 : 1, seed: o.seed ?? 0 });
    default:
      throw new ArchError(`unknown architecture '${arch}' (known: ${ARCHS.join(', ')})`);
  }
}

function param(values: Float32Array, shape: Shape, name: string): Tensor {
  const t = keep(tensor(values, shape, { requiresGrad: true }));
  t.name = name;
  return t;
}

/** x → flatten → linear → relu → dropout(0.1) → linear (PyTorch default init, seeded). */
export class Mlp implements ModuleLike {
  private params: Record<string, Tensor>;
  private readonly drop: Dropout;
  training = true;
  constructor(inputs: number, hidden: number, classes: number, seed: number) {
    this.drop = new Dropout(0.1, seed);
    const r = new Sfc32(seed);
    const uni = (n: number, fanIn: number) => Float32Array.from({ length: n }, () => (2 * r.next() - 1) / Math.sqrt(fanIn));
    this.params = {
      'fc1.weight': param(uni(hidden * inputs, inputs), [hidden, inputs], 'fc1.weight'),
      'fc1.bias': param(uni(hidden, inputs), [hidden], 'fc1.bias'),
      'fc2.weight': param(uni(classes * hidden, hidden), [classes, hidden], 'fc2.weight'),
      'fc2.bias': param(uni(classes, hidden), [classes], 'fc2.bias'),
    };
  }
  forward(x: Tensor): Tensor {
    const p = this.params;
    const h = this.drop.forward(relu(linear(flatten(x), p['fc1.weight'], p['fc1.bias'])));
    return linear(h, p['fc2.weight'], p['fc2.bias']);
  }
  train(): this {
    this.training = true;
    this.drop.train();
    return this;
  }
  eval(): this {
    this.training = false;
    this.drop.eval();
    return this;
  }
  randomState(): Record<string, number> {
    return this.drop.randomState();
  }
  loadRandomState(state: Record<string, number>): void {
    this.drop.loadRandomState(state);
  }
  parameters(): Tensor[] {
    return Object.values(this.params);
  }
  stateDict(): Record<string, Tensor> {
    return { ...this.params };
  }
  loadStateDict(dict: Record<string, Tensor>): void {
    for (const [k, p] of Object.entries(this.params)) {
      const v = dict[k];
      if (!v) throw new ArchError(`loadStateDict: missing '${k}'`);
      if (v.shape.join() !== p.shape.join()) throw new ArchError(`loadStateDict: '${k}' has shape [${v.shape}], expected [${p.shape}]`);
      assign(p, v);
    }
  }
}
