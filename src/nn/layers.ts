// Layers with PyTorch's parameter names, shapes and default initialisation.
// Fused activations have one name everywhere (`Activation`, src/ops/activation.ts:
// 'none' | 'relu' | 'relu6'): Conv2d, Linear and BatchNorm2d take `forward(x, { act })`,
// and Sequential fuses a ReLU/ReLU6 that follows one of them, so a conv → bn → relu block
// costs two dispatches forward.

import { Tensor } from '../tensor/index.js';
import { gpu } from '../gpu/index.js';
import { registerKernel, paramBlock } from '../gpu/index.js';
import { OpError } from '../errors.js';
import * as ops from '../ops/index.js';
import * as F from './functional.js';
import { Module } from './module.js';
import { Rng, SplitMix32 } from '../util/rng.js';
import counterSrc from '../../kernels/counter.wgsl';

const CounterParams = paramBlock('nn.counter', { add: 'i32' });
const counterKernel = registerKernel({ name: 'nn:counter', code: counterSrc, file: 'kernels/counter.wgsl', params: CounterParams });

let defaultRng = new SplitMix32(0);
/** Seed the generator layers use when constructed without an `rng` (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  defaultRng = new SplitMix32(seed);
}

/** What a layer's forward fuses into its kernel. */
export interface ForwardOptions {
  /** activation applied in the kernel's epilogue ['none'] */
  act?: F.Activation;
}

function posInt(v: number, what: string, layer: string): number {
  if (!Number.isInteger(v) || v <= 0) throw new OpError(layer, `${what} must be a positive integer, got ${v}`);
  return v;
}

// ---- Conv2d -------------------------------------------------------------------------------------

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  groups?: number;
  bias?: boolean;
  /**
   * 'default': PyTorch's reset_parameters (kaiming uniform a=√5, i.e. U(±1/√fan_in), bias likewise);
   * 'kaimingFanOut': torchvision's N(0, √(2/fan_out)) with zero bias.
   */
  init?: 'default' | 'kaimingFanOut';
  rng?: Rng;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, o: Conv2dOptions = {}) {
    super();
    posInt(inChannels, 'inChannels', 'Conv2d');
    posInt(outChannels, 'outChannels', 'Conv2d');
    posInt(kernelSize, 'kernelSize', 'Conv2d');
    this.stride = posInt(o.stride ?? 1, 'stride', 'Conv2d');
    this.padding = o.padding ?? 0;
    this.groups = posInt(o.groups ?? 1, 'groups', 'Conv2d');
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new OpError('Conv2d', `channels ${inChannels} → ${outChannels} are not divisible by groups ${this.groups}`);
    }
    const rng = o.rng ?? defaultRng;
    const cin = inChannels / this.groups;
    const k2 = kernelSize * kernelSize;
    const n = outChannels * cin * k2;
    const fanIn = cin * k2;
    const fanOut = outChannels * k2;
    const init = o.init ?? 'default';
    const w = init === 'kaimingFanOut' ? rng.fillNormal(n, 0, Math.sqrt(2 / fanOut)) : rng.fillUniform(n, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    this.weight = this.addParameter('weight', w, [outChannels, cin, kernelSize, kernelSize]);
    if (o.bias ?? true) {
      const b = init === 'kaimingFanOut' ? new Float32Array(outChannels) : rng.fillUniform(outChannels, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
      this.bias = this.addParameter('bias', b, [outChannels]);
    } else this.bias = null;
  }

  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    const act = F.checkActivation('Conv2d', o.act);
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups, act });
  }
}

// ---- BatchNorm2d --------------------------------------------------------------------------------

export interface BatchNorm2dOptions {
  eps?: number;
  momentum?: number;
}

export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** i32 scalar, saved as I64 like PyTorch's */
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  readonly momentum: number;
  /** training-mode forwards not yet added to the numBatchesTracked tensor */
  private pendingBatches = 0;

  constructor(readonly numFeatures: number, o: BatchNorm2dOptions = {}) {
    super();
    posInt(numFeatures, 'numFeatures', 'BatchNorm2d');
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    this.weight = this.addParameter('weight', new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.bias = this.addParameter('bias', new Float32Array(numFeatures), [numFeatures]);
    this.runningMean = this.addBuffer('running_mean', new Float32Array(numFeatures), [numFeatures]);
    this.runningVar = this.addBuffer('running_var', new Float32Array(numFeatures).fill(1), [numFeatures]);
    this.numBatchesTracked = this.addBuffer('num_batches_tracked', new Int32Array(1), []);
  }

  /** Training mode: batch statistics, running stats updated in place. Eval: running stats. */
  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    const act = F.checkActivation('BatchNorm2d', o.act);
    const y = F.batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training, momentum: this.momentum, eps: this.eps, act,
    });
    if (this.training) this.pendingBatches++;
    return y;
  }

  protected override syncState(): void {
    if (this.pendingBatches === 0 || this.numBatchesTracked.disposed) return;
    gpu().dispatch({ kernel: counterKernel, label: 'num_batches_tracked', params: { add: this.pendingBatches }, bindings: [this.numBatchesTracked.slice('BatchNorm2d')], workgroups: [1] });
    this.pendingBatches = 0;
  }

  protected override loadedState(): void {
    this.pendingBatches = 0;
  }
}

// ---- Linear -------------------------------------------------------------------------------------

export interface LinearOptions {
  bias?: boolean;
  /** 'default': U(±1/√in) for weight and bias (PyTorch); 'normal001': N(0, 0.01), zero bias (torchvision MobileNetV2) */
  init?: 'default' | 'normal001';
  rng?: Rng;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, o: LinearOptions = {}) {
    super();
    posInt(inFeatures, 'inFeatures', 'Linear');
    posInt(outFeatures, 'outFeatures', 'Linear');
    const rng = o.rng ?? defaultRng;
    const bound = 1 / Math.sqrt(inFeatures);
    const n = inFeatures * outFeatures;
    const normal = o.init === 'normal001';
    this.weight = this.addParameter('weight', normal ? rng.fillNormal(n, 0, 0.01) : rng.fillUniform(n, -bound, bound), [outFeatures, inFeatures]);
    if (o.bias ?? true) {
      this.bias = this.addParameter('bias', normal ? new Float32Array(outFeatures) : rng.fillUniform(outFeatures, -bound, bound), [outFeatures]);
    } else this.bias = null;
  }

  forward(x: Tensor, o: ForwardOptions = {}): Tensor {
    const act = F.checkActivation('Linear', o.act);
    return ops.linear(x, this.weight, this.bias, { act });
  }
}

// ---- parameter-free layers ----------------------------------------------------------------------

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }
}

export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return ops.relu6(x);
  }
}

export class MaxPool2d extends Module {
  readonly stride: number;
  constructor(readonly kernelSize: number, stride?: number, readonly padding = 0) {
    super();
    posInt(kernelSize, 'kernelSize', 'MaxPool2d');
    this.stride = posInt(stride ?? kernelSize, 'stride', 'MaxPool2d');
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding });
  }
}

/** Adaptive average pooling to 1×1 (the only output size the models use): [N, C, H, W] → [N, C, 1, 1]. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number = 1) {
    super();
    if (outputSize !== 1) throw new OpError('AdaptiveAvgPool2d', `only output size 1 is supported, got ${outputSize}`);
  }
  forward(x: Tensor): Tensor {
    const [n, c] = x.shape;
    return ops.reshape(F.globalAvgPool2d(x), [n, c, 1, 1]);
  }
}

export class Dropout extends Module {
  private calls = 0;
  constructor(readonly p = 0.5, readonly seed = 0) {
    super();
    if (!(p >= 0 && p < 1)) throw new OpError('Dropout', `p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return F.dropout(x, { p: this.p, training: true, seed: (this.seed * 1000003 + this.calls++) >>> 0 });
  }
  /** each training forward draws a fresh mask: seed (seed, calls) */
  protected override draws(): number {
    return this.calls;
  }
  protected override setDraws(count: number): void {
    this.calls = count;
  }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.flatten(x, this.startDim);
  }
}

/** Children named '0', '1', ...; a ReLU/ReLU6 after a Conv2d, BatchNorm2d or Linear is fused into it (`{ act }`). */
export class Sequential extends Module {
  private readonly list: Module[];
  constructor(...modules: Module[]) {
    super();
    this.list = modules;
    modules.forEach((m, i) => this.addModule(String(i), m));
  }

  get length(): number {
    return this.list.length;
  }

  at(i: number): Module {
    return this.list[i];
  }

  forward(x: Tensor): Tensor {
    const l = this.list;
    let y = x;
    for (let i = 0; i < l.length; i++) {
      const m = l[i];
      const next = l[i + 1];
      const act: F.Activation = next instanceof ReLU ? 'relu' : next instanceof ReLU6 ? 'relu6' : 'none';
      if (act !== 'none' && (m instanceof Conv2d || m instanceof BatchNorm2d || m instanceof Linear)) {
        y = m.forward(y, { act });
        i++;
      } else y = m.forward(y);
    }
    return y;
  }
}
