// A small two-layer perceptron: x → flatten → linear → ReLU → dropout(0.1) → linear, PyTorch's
// default initialisation from a seeded sfc32 stream. Keys fc1.*, fc2.*. For quick runs and the
// trainer's own tests (`--arch mlp`).
import { Tensor } from '../tensor/index.js';
import { flatten } from '../ops/index.js';
import { Sfc32 } from '../util/rng.js';
import { Module, Linear, Dropout } from '../nn/index.js';

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
    return this.fc2.forward(this.drop.forward(this.fc1.forward(flatten(x), { act: 'relu' })));
  }
}
