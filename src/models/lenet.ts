// LeNet-5 (LeCun et al. 1998, with ReLU and max-pooling as in the PyTorch
// tutorials): conv1 5×5 → 6 (padding 2), pool, conv2 5×5 → 16, pool, fc1 120,
// fc2 84, fc3 classes. Keys: conv1.*, conv2.*, fc1.*, fc2.*, fc3.*.
// A 28×28 input gives 16×5×5 features before fc1. PyTorch default initialisation.

import { Tensor } from '../tensor/index.js';
import * as ops from '../ops/index.js';
import { Module, Conv2d, Linear, MaxPool2d, Rng } from '../nn/index.js';

export interface LeNet5Options {
  numClasses?: number;
  inChannels?: number;
  seed?: number;
}

export class LeNet5 extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly fc3: Linear;
  private readonly pool = new MaxPool2d(2);

  constructor(o: LeNet5Options = {}) {
    super();
    const rng = new Rng(o.seed ?? 0);
    const numClasses = o.numClasses ?? 10;
    this.conv1 = this.addModule('conv1', new Conv2d(o.inChannels ?? 1, 6, 5, { padding: 2, rng }));
    this.conv2 = this.addModule('conv2', new Conv2d(6, 16, 5, { rng }));
    this.fc1 = this.addModule('fc1', new Linear(16 * 5 * 5, 120, { rng }));
    this.fc2 = this.addModule('fc2', new Linear(120, 84, { rng }));
    this.fc3 = this.addModule('fc3', new Linear(84, numClasses, { rng }));
    this.nameTensors();
  }

  /** x: [N, inChannels, 28, 28] → logits [N, numClasses] */
  forward(x: Tensor): Tensor {
    let y = this.pool.forward(this.conv1.forward(x, { act: 'relu' }));
    y = this.pool.forward(this.conv2.forward(y, { act: 'relu' }));
    y = ops.flatten(y, 1);
    y = this.fc1.forward(y, { act: 'relu' });
    y = this.fc2.forward(y, { act: 'relu' });
    return this.fc3.forward(y);
  }
}

export function lenet5(o: LeNet5Options = {}): LeNet5 {
  return new LeNet5(o);
}
