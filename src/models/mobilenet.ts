// MobileNetV2 (Sandler et al. 2018) with torchvision's structure, keys and
// initialisation: features.0 = Conv2dNormActivation (features.0.0 conv,
// features.0.1 bn), features.1..17 inverted residual blocks (features.N.conv.K...),
// features.18 the final 1×1 conv-bn-ReLU6, classifier.1 the linear layer after
// dropout (classifier.0). Channels are rounded with torchvision's _make_divisible
// (multiples of 8). Convs N(0, √(2/fan_out)), batchnorm γ=1 β=0, classifier
// N(0, 0.01) with zero bias.
// smallInput: stride 1 in the stem and in the first 24-channel stage, so the
// network downsamples by 8 instead of 32 (the variant for 32×32 images).

import { Tensor } from '../tensor/index.js';
import * as ops from '../ops/index.js';
import { OpError } from '../errors.js';
import * as F from '../nn/functional.js';
import { Module, Conv2d, BatchNorm2d, Linear, ReLU6, Dropout, Sequential, Rng } from '../nn/index.js';

export interface MobileNetV2Options {
  numClasses?: number;
  widthMult?: number;
  inChannels?: number;
  /** stride 1 in the stem and the first 24-channel stage (downsampling by 8) */
  smallInput?: boolean;
  /** classifier dropout (torchvision: 0.2) */
  dropout?: number;
  seed?: number;
}

/** torchvision's _make_divisible: round to a multiple of `divisor`, never below 90% of v. */
export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  let nv = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

/** Conv (no bias) → BatchNorm → ReLU6, as torchvision's Conv2dNormActivation (keys .0 and .1). */
function convBnAct(cin: number, cout: number, kernel: number, stride: number, groups: number, rng: Rng): Sequential {
  return new Sequential(
    new Conv2d(cin, cout, kernel, { stride, padding: (kernel - 1) >> 1, groups, bias: false, init: 'kaimingFanOut', rng }),
    new BatchNorm2d(cout),
    new ReLU6(),
  );
}

export class InvertedResidual extends Module {
  readonly conv: Sequential;
  readonly useResidual: boolean;

  constructor(inp: number, oup: number, stride: number, expandRatio: number, rng: Rng) {
    super();
    const hidden = Math.round(inp * expandRatio);
    this.useResidual = stride === 1 && inp === oup;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(convBnAct(inp, hidden, 1, 1, 1, rng));
    layers.push(
      convBnAct(hidden, hidden, 3, stride, hidden, rng),
      new Conv2d(hidden, oup, 1, { bias: false, init: 'kaimingFanOut', rng }),
      new BatchNorm2d(oup),
    );
    this.conv = this.addModule('conv', new Sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    return this.useResidual ? ops.add(x, y) : y;
  }
}

const SETTINGS: [number, number, number, number][] = [
  // expansion t, channels c, repeats n, stride s
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export class MobileNetV2 extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;
  readonly lastChannel: number;

  constructor(o: MobileNetV2Options = {}) {
    super();
    const numClasses = o.numClasses ?? 1000;
    const width = o.widthMult ?? 1;
    if (!(width > 0)) throw new OpError('mobilenetV2', `widthMult must be > 0, got ${width}`);
    if (!Number.isInteger(numClasses) || numClasses <= 0) throw new OpError('mobilenetV2', `numClasses must be a positive integer, got ${numClasses}`);
    const small = !!o.smallInput;
    const rng = new Rng(o.seed ?? 0);
    let input = makeDivisible(32 * width);
    this.lastChannel = makeDivisible(1280 * Math.max(1, width));
    const feats: Module[] = [convBnAct(o.inChannels ?? 3, input, 3, small ? 1 : 2, 1, rng)];
    SETTINGS.forEach(([t, c, n, s], stage) => {
      const out = makeDivisible(c * width);
      const stageStride = small && stage === 1 ? 1 : s;
      for (let i = 0; i < n; i++) {
        feats.push(new InvertedResidual(input, out, i === 0 ? stageStride : 1, t, rng));
        input = out;
      }
    });
    feats.push(convBnAct(input, this.lastChannel, 1, 1, 1, rng));
    this.features = this.addModule('features', new Sequential(...feats));
    this.classifier = this.addModule('classifier', new Sequential(
      new Dropout(o.dropout ?? 0.2, o.seed ?? 0),
      new Linear(this.lastChannel, numClasses, { init: 'normal001', rng }),
    ));
    this.nameTensors();
  }

  /** x: [N, inChannels, H, W] → logits [N, numClasses] */
  forward(x: Tensor): Tensor {
    return this.classifier.forward(F.globalAvgPool2d(this.features.forward(x)));
  }
}

export function mobilenetV2(o: MobileNetV2Options = {}): MobileNetV2 {
  return new MobileNetV2(o);
}
