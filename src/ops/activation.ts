// Fused activations: one name for the activation an op applies in its epilogue, the same for
// conv2d, linear and batchNorm2d (option `act`), and for nn's Sequential fusion. Kernels receive
// it as a u32 parameter (`act`, ACT_CODE) and apply it with the WGSL helper ACT_WGSL; the
// backward masks the upstream gradient by the saved output (activationBackward).

import type { Tensor } from '../tensor/index.js';
import { OpError } from '../errors.js';
import { unaryBackward } from './elementwise.js';

export type Activation = 'none' | 'relu' | 'relu6';
export const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'relu6'];

/** The `act` parameter of a kernel: 0 none, 1 relu, 2 relu6. */
export const ACT_CODE: Record<Activation, number> = { none: 0, relu: 1, relu6: 2 };

/**
 * WGSL: `fn apply_act(v: f32, code: u32) -> f32`, the epilogue of kernels that fuse an activation
 * (one line, so inserting it keeps the file's line numbers). NaN propagates as in PyTorch
 * (tested on its bits: compilers may assume v != v is false).
 */
export const ACT_WGSL =
  'fn apply_act(v: f32, code: u32) -> f32 { if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { return v; } ' +
  'if (code == 1u) { return max(v, 0.0); } if (code == 2u) { return clamp(v, 0.0, 6.0); } return v; }';

/** Validate an `act` option (undefined is 'none'); errors name the op. */
export function checkActivation(op: string, act: unknown): Activation {
  if (act === undefined) return 'none';
  if (!ACTIVATIONS.includes(act as Activation)) throw new OpError(op, `unknown activation '${String(act)}' (use ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')})`);
  return act as Activation;
}

/** dL/dx of a fused activation from the upstream gradient g and the saved output y (g itself for 'none'). */
export function activationBackward(g: Tensor, y: Tensor, act: Activation): Tensor {
  if (act === 'none') throw new Error('focusnet: internal: activationBackward of none');
  return unaryBackward(act, g, y);
}
