// Architectures the trainer can build, by name. The networks themselves live
// in `models` (LeNet-5, ResNet-18/34, MobileNetV2); `mlp` is a small
// two-layer perceptron kept here for quick runs and the trainer's own tests.
import * as models from '../models/index.js';
import { Tensor } from '../tensor/index.js';
import { flatten } from '../ops/index.js';
import { Sfc32 } from '../util/rng.js';
import { InputError } from '../errors.js';
import { Module, Linear, Dropout } from '../nn/index.js';

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

export class ArchError extends InputError {
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

export function createModel(arch: string, o: ArchOptions): Module {
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

/** x → flatten → linear → relu → dropout(0.1) → linear (PyTorch default init, seeded). */
export class Mlp extends Module {
  private readonly fc1: Linear;
  private readonly drop: Dropout;
  private readonly fc2: Linear;
  constructor(inputs: number, hidden: number, classes: number, seed: number) {
    super();
    const rng = new Sfc32(seed);
    this.fc1 = this.addModule('fc1', new Linear(inputs, hidden, { rng }));
    this.fc2 = this.addModule('fc2', new Linear(hidden, classes, { rng }));
    this.drop = this.addModule('drop', new Dropout(0.1, seed));
    this.nameTensors();
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.drop.forward(this.fc1.forward(flatten(x), { relu: true })));
  }
}
