// The differentiable matrix products: matmul (2-D and batched 3-D, PyTorch semantics) and
// linear (x·wᵀ + b with a fused activation), with their backward rules on the transposed
// forms G·Bᵀ and Aᵀ·G. The family's other parts, re-exported here so importers name one module:
//   matmul-launch.ts   matmulRaw, transposeRaw: the launchers of kernels/matmul.wgsl
//   matmul-variant.ts  which variant runs a product (forced, tuning table, per-adapter default)
//   matmul-tune.ts     autotuneMatmul, the harness that fills the tuning table
// See docs/matmul.md.

import type { Tensor } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { check, checkF32, checkOptions, OpError, shapeStr } from './common.js';
import { sumTo, sumToOwned } from './reduce.js';
import { activationBackward, checkActivation, type Activation } from './activation.js';
import { matmulRaw } from './matmul-launch.js';
import { checkGemmPair } from './precision.js';
import { autocastOperands, gradOperand } from './cast.js';

export { matmulRaw, transposeRaw } from './matmul-launch.js';
export type { MatmulRawOptions } from './matmul-launch.js';
export {
  MATMUL_VARIANTS, subgroupMatmulSupported, availableMatmulVariants, setMatmulVariant, defaultMatmulVariant,
  matmulBucket, matmulTuning, clearMatmulTuning, matmulVariant,
} from './matmul-variant.js';
export type { MatmulVariant, MatmulBucket, MatmulTuneEntry, MatmulTuneResult } from './matmul-variant.js';
export { autotuneMatmul } from './matmul-tune.js';
export type { AutotuneOptions } from './matmul-tune.js';

/**
 * Matrix product with PyTorch semantics for 2-D and batched 3-D operands. f32 operands, or f16
 * ones (both; under autocast f32 operands are cast to f16): the product is f32 either way.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  check(a, 'matmul', 'a');
  check(b, 'matmul', 'b');
  [a, b] = autocastOperands(a, b);
  const elem = checkGemmPair(a, b, 'matmul');
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new OpError('matmul', `operands must be 2-D or 3-D, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const c = matmulRaw(a, b);
  const as = a.shape;
  const bs = b.shape;
  record('matmul', [a, b], c, [a, b], (g32, [sa, sb]) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    const { g, done } = gradOperand(g32, elem);
    if (a.requiresGrad) {
      // dA = g · Bᵀ, summed over the batch a 2-D or batch-1 operand was broadcast along
      ga = sumToOwned(matmulRaw(g, sb, { transB: true }), as);
    }
    if (b.requiresGrad) {
      gb = sumToOwned(matmulRaw(sa, g, { transA: true }), bs);
    }
    done();
    return [ga, gb];
  });
  return c;
}

export interface LinearOptions {
  /** activation fused into the product's epilogue, after the bias (default 'none') */
  act?: Activation;
}

/**
 * y = act(x · wᵀ + b) with w of shape [out, in] (PyTorch's nn.Linear, then the activation). x and
 * w f32, or both f16 (under autocast f32 ones are cast); the bias and y are f32.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, opts: LinearOptions = {}): Tensor {
  checkOptions('linear', opts, ['act'], { relu: "use act: 'relu'" });
  check(x, 'linear', 'x');
  check(w, 'linear', 'weight');
  [x, w] = autocastOperands(x, w);
  const elem = checkGemmPair(x, w, 'linear', 'x', 'weight');
  if (x.rank !== 2 || w.rank !== 2) throw new OpError('linear', `expects x [batch, in] and weight [out, in], got ${shapeStr(x.shape)} and ${shapeStr(w.shape)}`);
  if (x.shape[1] !== w.shape[1]) throw new OpError('linear', `x ${shapeStr(x.shape)} has ${x.shape[1]} features but weight ${shapeStr(w.shape)} expects ${w.shape[1]}`);
  if (b) {
    checkF32(b, 'linear', 'bias');
    if (b.rank !== 1 || b.shape[0] !== w.shape[0]) throw new OpError('linear', `bias ${shapeStr(b.shape)} must be [${w.shape[0]}]`);
  }
  const act = checkActivation('linear', opts.act);
  const y = matmulRaw(x, w, { transB: true, bias: b ?? null, act });
  const saved = act !== 'none' ? [x, w, y] : [x, w];
  record('linear', b ? [x, w, b] : [x, w], y, saved, (g, [sx, sw, sy]) => {
    // the gradient of the activation from its saved output
    const gz = act !== 'none' ? activationBackward(g, sy, act) : g;
    // the products read gz in the forward's precision; the bias gradient sums the f32 gz
    const h = gradOperand(gz, elem);
    const gx = x.requiresGrad ? matmulRaw(h.g, sw) : null;
    const gw = w.requiresGrad ? matmulRaw(h.g, sx, { transA: true }) : null;
    h.done();
    const gb = b && b.requiresGrad ? sumTo(gz, [w.shape[0]]) : null;
    if (gz !== g) gz.dispose();
    return b ? [gx, gw, gb] : [gx, gw];
  });
  return y;
}
