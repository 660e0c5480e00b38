// The convolution launchers without autograd: for one convolution and direction, ask policy.ts
// which path runs (1×1 as a matmul, the im2col lowering, the depthwise kernels, the flipped
// forward input gradient, or the direct implicit-GEMM kernels) and run it. conv2d's backward
// calls these; so do fused layers and the benchmarks (the `internal` namespace).

import type { Tensor } from '../../tensor/index.js';
import type { Activation } from '../activation.js';
import { type ConvGeom, flippedGeom, hasFlippedForm } from './geometry.js';
import { useMatmul1x1, useIm2col, useDepthwiseKernels, useFlippedForward, biasGradSplits } from './policy.js';
import { directForward, depthwiseForward, directInputGrad, directWeightGrad, depthwiseWeightGrad, biasGrad } from './direct.js';
import {
  pointwiseForward, pointwiseInputGrad, loweredForward, loweredInputGradFlipped, loweredInputGradCol2im, loweredWeightGrad, flipWeight,
} from './lowering.js';

/** Forward: y = act(conv(x, w) + b). `label` names the direct kernel's dispatch. */
export function conv2dForward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: Activation = 'none', label = 'conv2d_forward'): Tensor {
  if (useMatmul1x1(g) && !b) return pointwiseForward(x, w, g, act);
  if (useIm2col(g, 'fwd')) return loweredForward(x, w, b, g, act);
  if (useDepthwiseKernels(g)) return depthwiseForward(x, w, b, g, act);
  return directForward(x, w, b, g, act, label);
}

/** Input gradient from the output gradient gy [N, Cout, OH, OW] and the weights. */
export function conv2dInputGrad(gy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  if (useMatmul1x1(g)) return pointwiseInputGrad(gy, w, g);
  if (useIm2col(g, 'dgrad') && hasFlippedForm(g)) return loweredInputGradFlipped(gy, w, g);
  if (useFlippedForward(g)) {
    // stride 1: dX = conv(dY, flipped Wᵀ, padding K−1−p), through conv2dForward's own path choice
    const wf = flipWeight(w, g, 'oihw');
    const gx = conv2dForward(gy, wf, null, flippedGeom(g), 'none', 'conv2d_input_grad_as_forward');
    wf.dispose();
    return gx;
  }
  if (useIm2col(g, 'dgrad')) return loweredInputGradCol2im(gy, w, g);
  return directInputGrad(gy, w, g);
}

/** Weight gradient [Cout, Cin/groups, KH, KW] from the output gradient and the saved input. */
export function conv2dWeightGrad(gy: Tensor, x: Tensor, g: ConvGeom): Tensor {
  if (useDepthwiseKernels(g)) return depthwiseWeightGrad(gy, x, g);
  if (useIm2col(g, 'wgrad')) return loweredWeightGrad(gy, x, g);
  return directWeightGrad(gy, x, g);
}

/** Bias gradient [Cout]: the output gradient summed over N, OH, OW (policy.biasGradSplits). */
export function conv2dBiasGrad(gy: Tensor, g: ConvGeom): Tensor {
  return biasGrad(gy, g, biasGradSplits(g));
}
