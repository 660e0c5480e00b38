// The `nn` namespace: Module and layers with PyTorch names and initialisation.
export { Module } from './module.js';
export type { LoadStateDictOptions, LoadStateDictResult } from './module.js';
export {
  Conv2d, BatchNorm2d, Linear, ReLU, ReLU6, MaxPool2d, AdaptiveAvgPool2d, Dropout, Flatten, Sequential, manualSeed,
} from './layers.js';
export type { Conv2dOptions, BatchNorm2dOptions, LinearOptions, ForwardOptions } from './layers.js';
// nn.Rng: the seeded initialisation stream (SplitMix32); src/util/rng.ts has both generators.
export { SplitMix32 as Rng } from '../util/rng.js';
export type { Activation } from '../ops/activation.js';
