// The convolution launchers without autograd: for one convolution and direction, apply the
// structural rules (1×1 as a matmul, the depthwise kernels), then run the path policy.ts's
// convPath picks (the direct implicit-GEMM kernels with the flipped-forward input gradient, the
// im2col lowering, or a tiled implicit-GEMM configuration). conv2d's backward calls these; so
// do fused layers, the autotune and the benchmarks (the `internal` namespace).

import type { Tensor } from '../../tensor/index.js';
import type { Activation } from '../activation.js';
import { type ConvGeom, flippedGeom, hasFlippedForm } from './geometry.js';
import { useMatmul1x1, useDepthwiseKernels, useFlippedForward, biasGradSplits, convPath, type ConvPath, type ConvDirection } from './policy.js';
import { directForward, depthwiseForward, directInputGrad, directWeightGrad, depthwiseWeightGrad, biasGrad } from './direct.js';
import {
  pointwiseForward, pointwiseInputGrad, loweredForward, loweredInputGradFlipped, loweredInputGradCol2im, loweredWeightGrad, flipWeight,
} from './lowering.js';
import { tiledForward, tiledInputGrad, tiledWeightGrad } from './tiled.js';

/** While set, every launcher call reports its geometry and direction here (convShapesOf in tune.ts). */
let recorder: ((g: ConvGeom, dir: ConvDirection) => void) | null = null;
export function setConvRecorder(r: typeof recorder): void {
  recorder = r;
}

/** Forward: y = act(conv(x, w) + b). `label` names the direct kernel's dispatch; `path` overrides convPath. */
export function conv2dForward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: Activation = 'none', label = 'conv2d_forward', path?: ConvPath): Tensor {
  recorder?.(g, 'fwd');
  return forward(x, w, b, g, act, label, path);
}

function forward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: Activation, label: string, path?: ConvPath): Tensor {
  if (useMatmul1x1(g) && !b) return pointwiseForward(x, w, g, act);
  if (useDepthwiseKernels(g)) return depthwiseForward(x, w, b, g, act);
  const p = path ?? convPath(g, 'fwd');
  if (p === 'im2col') return loweredForward(x, w, b, g, act);
  if (p === 'direct') return directForward(x, w, b, g, act, label);
  return tiledForward(x, w, b, g, act, p);
}

/** Input gradient from the output gradient gy [N, Cout, OH, OW] and the weights; `path` overrides convPath. */
export function conv2dInputGrad(gy: Tensor, w: Tensor, g: ConvGeom, path?: ConvPath): Tensor {
  recorder?.(g, 'dgrad');
  if (useMatmul1x1(g)) return pointwiseInputGrad(gy, w, g);
  const p = path ?? convPath(g, 'dgrad');
  if (p === 'im2col') return hasFlippedForm(g) ? loweredInputGradFlipped(gy, w, g) : loweredInputGradCol2im(gy, w, g);
  if (p !== 'direct') return tiledInputGrad(gy, w, g, p);
  if (useFlippedForward(g)) {
    // stride 1: dX = conv(dY, flipped Wᵀ, padding K−1−p), a forward of the flipped geometry on
    // the direct kernel or, where the forward's own rule lowers that geometry, through im2col
    const fg = flippedGeom(g);
    const wf = flipWeight(w, g, 'oihw');
    const gx = forward(gy, wf, null, fg, 'none', 'conv2d_input_grad_as_forward', convPath(fg, 'fwd') === 'im2col' ? 'im2col' : 'direct');
    wf.dispose();
    return gx;
  }
  return directInputGrad(gy, w, g);
}

/** Weight gradient [Cout, Cin/groups, KH, KW] from the output gradient and the saved input; `path` overrides convPath. */
export function conv2dWeightGrad(gy: Tensor, x: Tensor, g: ConvGeom, path?: ConvPath): Tensor {
  recorder?.(g, 'wgrad');
  if (useDepthwiseKernels(g)) return depthwiseWeightGrad(gy, x, g);
  const p = path ?? convPath(g, 'wgrad');
  if (p === 'im2col') return loweredWeightGrad(gy, x, g);
  if (p === 'direct') return directWeightGrad(gy, x, g);
  return tiledWeightGrad(gy, x, g, p);
}

/** Bias gradient [Cout]: the output gradient summed over N, OH, OW (policy.biasGradSplits). */
export function conv2dBiasGrad(gy: Tensor, g: ConvGeom): Tensor {
  return biasGrad(gy, g, biasGradSplits(g));
}
