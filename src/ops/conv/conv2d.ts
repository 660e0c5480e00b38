// The differentiable conv2d op (PyTorch semantics): checks the arguments, runs the forward
// launcher and records the backward (input, weight and bias gradients through the fused
// activation's mask). Paths and kernels: launch.ts; docs/conv.md.

import type { Tensor } from '../../tensor/index.js';
import { record } from '../../autograd/tape.js';
import { check, checkF32, checkOptions } from '../common.js';
import { checkGemmPair } from '../precision.js';
import { autocastOperands, gradOperand } from '../cast.js';
import { type Activation, checkActivation, activationBackward } from '../activation.js';
import { OP, type ConvShapeOptions, conv2dGeometry } from './geometry.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, conv2dBiasGrad } from './launch.js';

export interface Conv2dOptions extends ConvShapeOptions {
  /** activation fused into the forward's epilogue: 'none' (default), 'relu' or 'relu6' */
  act?: Activation;
}

/**
 * 2-D convolution with PyTorch semantics. x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW],
 * optional b [Cout]; returns [N, Cout, OH, OW]. `act` fuses an activation into the epilogue.
 * x and w are f32, or both f16 (under autocast f32 ones are cast to f16); b and the output f32.
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkOptions(OP, opts, ['stride', 'padding', 'groups', 'act'], { relu: "use act: 'relu'" });
  check(x, OP, 'input');
  check(w, OP, 'weight');
  if (b) checkF32(b, OP, 'bias');
  [x, w] = autocastOperands(x, w);
  const elem = checkGemmPair(x, w, OP, 'input', 'weight');
  const g = conv2dGeometry(x.shape, w.shape, b ? b.shape : null, opts);
  const act = checkActivation(OP, opts.act);
  const y = conv2dForward(x, w, b ?? null, g, act);
  // save only what backward will read: the output masks a fused activation's gradient
  const needX = w.requiresGrad;
  const needW = x.requiresGrad;
  const needY = act !== 'none';
  const saved: Tensor[] = [];
  if (needX) saved.push(x);
  if (needW) saved.push(w);
  if (needY) saved.push(y);
  record(OP, b ? [x, w, b] : [x, w], y, saved, (gy, sv) => {
    let k = 0;
    const sx = needX ? sv[k++] : null;
    const sw = needW ? sv[k++] : null;
    const sy = needY ? sv[k++] : null;
    const gz = sy ? activationBackward(gy, sy, act) : gy;
    // the input and weight gradients read gz in the forward's precision; the bias gradient sums the f32 gz
    const h = gradOperand(gz, elem);
    const gx = x.requiresGrad && sw ? conv2dInputGrad(h.g, sw, g) : null;
    const gw = w.requiresGrad && sx ? conv2dWeightGrad(h.g, sx, g) : null;
    h.done();
    const gb = b && b.requiresGrad ? conv2dBiasGrad(gz, g) : null;
    if (gz !== gy) gz.dispose();
    return b ? [gx, gw, gb] : [gx, gw];
  });
  return y;
}
