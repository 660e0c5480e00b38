// The `models` namespace: LeNet-5, ResNet-18/34 and MobileNetV2 with torchvision's keys.
export { lenet5, LeNet5 } from './lenet.js';
export type { LeNet5Options } from './lenet.js';
export { resnet18, resnet34, ResNet, BasicBlock } from './resnet.js';
export type { ResNetOptions } from './resnet.js';
export { mobilenetV2, MobileNetV2, InvertedResidual, makeDivisible } from './mobilenet.js';
export type { MobileNetV2Options } from './mobilenet.js';
