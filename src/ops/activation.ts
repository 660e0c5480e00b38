// Helpers shared by fused epilogues: the ReLU/ReLU6 gradient mask applied to an
// upstream gradient given the saved output.

import { Tensor } from '../tensor/tensor.js';
import { launch1d, out, vec8 } from './common.js';

/** dx = g where y > 0 (y = relu output), else 0. */
export function reluBackward(g: Tensor, y: Tensor): Tensor {
  const dx = out(g.shape);
  launch1d(g.size, {
    module: 'ew:relu:bwd', label: 'relu_backward',
    bindings: [g.slice('relu'), y.slice('relu'), dx.slice('relu')],
    u: [g.size, 0, 0, 0, ...vec8([]), ...vec8([]), ...vec8([])], f: [0, 0],
  });
  return dx;
}

/** dx = g where 0 < y < 6 (y = relu6 output), else 0. */
export function relu6Backward(g: Tensor, y: Tensor): Tensor {
  const dx = out(g.shape);
  launch1d(g.size, {
    module: 'ew:relu6:bwd', label: 'relu6_backward',
    bindings: [g.slice('relu6'), y.slice('relu6'), dx.slice('relu6')],
    u: [g.size, 0, 0, 0, ...vec8([]), ...vec8([]), ...vec8([])], f: [0, 0],
  });
  return dx;
}
