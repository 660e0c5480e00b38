// The `models` namespace: LeNet-5, ResNet-18/34, MobileNetV2 (torchvision's keys), a small MLP,
// and the registry that builds them by name (src/models/registry.ts).
export { lenet5, LeNet5 } from './lenet.js';
export type { LeNet5Options } from './lenet.js';
export { resnet18, resnet34, ResNet, BasicBlock } from './resnet.js';
export type { ResNetOptions } from './resnet.js';
export { mobilenetV2, MobileNetV2, InvertedResidual, makeDivisible } from './mobilenet.js';
export type { MobileNetV2Options } from './mobilenet.js';
export { Mlp } from './mlp.js';
export { ARCHS, CAM_ARCHS, ArchError, archSpec, findArch, createModel, splitModel, smallInputFor } from './registry.js';
export type { ArchName, ArchOptions, ArchSpec, FeatureSplit } from './registry.js';
