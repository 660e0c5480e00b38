// Helpers shared by fused epilogues: the ReLU gradient mask applied to an
// upstream gradient given the saved output (the elementwise table's backward kernels,
// vec4 when the size allows).

import { Tensor } from '../tensor/index.js';
import { unaryBackward } from './elementwise.js';

/** dx = g where y > 0 (y = relu output), else 0. */
export function reluBackward(g: Tensor, y: Tensor): Tensor {
  return unaryBackward('relu', g, y);
}
