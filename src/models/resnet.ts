// ResNet-18/34 with torchvision's structure and state-dict keys (conv1, bn1,
// layer1.0.conv1, layer2.0.downsample.0/1, fc, ...) and initialisation
// (convs N(0, √(2/fan_out)), batchnorm γ=1 β=0, fc PyTorch default).
// smallInput: the variant for 32×32 images — 3×3 stride-1 stem, no max-pool.
// Batchnorm + ReLU run fused; the residual add is followed by one ReLU.

import { Tensor } from '../tensor/index.js';
import * as ops from '../ops/index.js';
import { OpError } from '../errors.js';
import * as F from '../nn/functional.js';
import { Module, Conv2d, BatchNorm2d, Linear, MaxPool2d, Sequential, Rng } from '../nn/index.js';

export interface ResNetOptions {
  numClasses?: number;
  inChannels?: number;
  /** 3×3 stride-1 stem and no max-pool (CIFAR-size images) */
  smallInput?: boolean;
  seed?: number;
}

const conv3x3 = (cin: number, cout: number, stride: number, rng: Rng) =>
  new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, init: 'kaimingFanOut', rng });

export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride: number, rng: Rng) {
    super();
    this.conv1 = this.addModule('conv1', conv3x3(inplanes, planes, stride, rng));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.addModule('conv2', conv3x3(planes, planes, 1, rng));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(planes));
    if (stride !== 1 || inplanes !== planes) {
      this.downsample = this.addModule('downsample', new Sequential(
        new Conv2d(inplanes, planes, 1, { stride, bias: false, init: 'kaimingFanOut', rng }),
        new BatchNorm2d(planes),
      ));
    } else this.downsample = null;
  }

  forward(x: Tensor): Tensor {
    const y = this.bn1.forward(this.conv1.forward(x), { act: 'relu' });
    const z = this.bn2.forward(this.conv2.forward(y));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return ops.relu(ops.add(z, identity));
  }
}

export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d | null;
  readonly layers: Sequential[];
  readonly fc: Linear;

  constructor(blocks: [number, number, number, number], o: ResNetOptions = {}) {
    super();
    const numClasses = o.numClasses ?? 1000;
    const inChannels = o.inChannels ?? 3;
    if (!Number.isInteger(numClasses) || numClasses <= 0) throw new OpError('resnet', `numClasses must be a positive integer, got ${numClasses}`);
    const rng = new Rng(o.seed ?? 0);
    const small = !!o.smallInput;
    this.conv1 = this.addModule('conv1', small
      ? new Conv2d(inChannels, 64, 3, { stride: 1, padding: 1, bias: false, init: 'kaimingFanOut', rng })
      : new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false, init: 'kaimingFanOut', rng }));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(64));
    this.maxpool = small ? null : new MaxPool2d(3, 2, 1);
    let inplanes = 64;
    this.layers = [64, 128, 256, 512].map((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const list: BasicBlock[] = [];
      for (let b = 0; b < blocks[i]; b++) {
        list.push(new BasicBlock(inplanes, planes, b === 0 ? stride : 1, rng));
        inplanes = planes;
      }
      return this.addModule(`layer${i + 1}`, new Sequential(...list));
    });
    this.fc = this.addModule('fc', new Linear(512 * BasicBlock.expansion, numClasses, { rng }));
    this.nameTensors();
  }

  /** Pooled 512-d features [N, 512]. */
  features(x: Tensor): Tensor {
    let y = this.bn1.forward(this.conv1.forward(x), { act: 'relu' });
    if (this.maxpool) y = this.maxpool.forward(y);
    for (const l of this.layers) y = l.forward(y);
    return F.globalAvgPool2d(y);
  }

  /** x: [N, inChannels, H, W] → logits [N, numClasses] */
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }
}

export function resnet18(o: ResNetOptions = {}): ResNet {
  return new ResNet([2, 2, 2, 2], o);
}

export function resnet34(o: ResNetOptions = {}): ResNet {
  return new ResNet([3, 4, 6, 3], o);
}
