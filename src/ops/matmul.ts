// Matmul with the transposed forms backward needs, optional fused bias + ReLU
// epilogue, batched over a leading dimension. Two kernel variants (see
// kernels/matmul.wgsl): register-blocked (no barriers) and workgroup-tiled; the
// variant is picked per adapter (software adapters run register blocking fast,
// hardware GPUs tiling) and can be forced with `setMatmulVariant`.

import src from '../../kernels/matmul.wgsl';
import { registerKernel } from '../gpu/kernels.js';
import { instantiate } from '../gpu/template.js';
import { gpu } from '../gpu/device.js';
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import { checkF32, checkF32Pair, out, OpError, shapeStr, sameShape } from './common.js';
import { sumTo } from './elementwise.js';

const FILE = 'kernels/matmul.wgsl';
export type MatmulVariant = 'rb' | 'tiled';
export const MATMUL_VARIANTS: MatmulVariant[] = ['rb', 'tiled'];
for (const v of MATMUL_VARIANTS) {
  const blk = v === 'rb' ? 'RB' : 'TILED';
  registerKernel(`matmul:${v}`, instantiate(src, [blk, 'NO_BIAS_BINDING']), FILE);
  registerKernel(`matmul:${v}:bias`, instantiate(src, [blk, 'BIAS_BINDING']), FILE);
}

let forced: MatmulVariant | null = null;
/** Force a matmul variant (null: choose per adapter). */
export function setMatmulVariant(v: MatmulVariant | null): void {
  forced = v;
}
export function matmulVariant(): MatmulVariant {
  return forced ?? (gpu().info.isSoftware ? 'rb' : 'tiled');
}

export interface MatmulRawOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor | null;
  relu?: boolean;
  variant?: MatmulVariant;
}

/**
 * C = op(A)·op(B) for 2-D operands, or batched when either is 3-D ([batch, ., .];
 * a 2-D operand is broadcast over the batch). No autograd.
 */
export function matmulRaw(a: Tensor, b: Tensor, o: MatmulRawOptions = {}): Tensor {
  const ta = !!o.transA;
  const tb = !!o.transB;
  const ar = a.rank;
  const br = b.rank;
  const [am, ak] = ta ? [a.shape[ar - 1], a.shape[ar - 2]] : [a.shape[ar - 2], a.shape[ar - 1]];
  const [bk, bn] = tb ? [b.shape[br - 1], b.shape[br - 2]] : [b.shape[br - 2], b.shape[br - 1]];
  if (ak !== bk) {
    throw new OpError('matmul', `inner dimensions differ: ${shapeStr(a.shape)}${ta ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${tb ? 'ᵀ' : ''} (${ak} vs ${bk})`);
  }
  const batchA = ar === 3 ? a.shape[0] : 1;
  const batchB = br === 3 ? b.shape[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) {
    throw new OpError('matmul', `batch sizes differ: ${shapeStr(a.shape)} · ${shapeStr(b.shape)}`);
  }
  const batch = Math.max(batchA, batchB);
  const shape = ar === 3 || br === 3 ? [batch, am, bn] : [am, bn];
  const c = out(shape);
  if (c.size === 0) return c;
  const variant = o.variant ?? matmulVariant();
  const tile = variant === 'rb' ? 32 : 64;
  const bindings = [a.slice('matmul'), b.slice('matmul'), c.slice('matmul')];
  if (o.bias) bindings.push(o.bias.slice('matmul'));
  gpu().dispatch({
    module: `matmul:${variant}${o.bias ? ':bias' : ''}`,
    label: `matmul(${variant})`,
    constants: { TA: ta ? 1 : 0, TB: tb ? 1 : 0, BIAS: o.bias ? 1 : 0, RELU: o.relu ? 1 : 0 },
    bindings,
    u: [am, bn, ak, 0, batchA === 1 ? 0 : am * ak, batchB === 1 ? 0 : ak * bn, am * bn, 0],
    workgroups: [Math.ceil(bn / tile), Math.ceil(am / tile), batch],
  });
  return c;
}

/** Matrix product with PyTorch semantics for 2-D and batched 3-D operands. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkF32Pair(a, b, 'matmul');
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new OpError('matmul', `operands must be 2-D or 3-D, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  }
  const c = matmulRaw(a, b);
  const as = a.shape;
  const bs = b.shape;
  record('matmul', [a, b], c, [a, b], (g, [sa, sb]) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = g · Bᵀ, summed over a broadcast batch
      const t = matmulRaw(g, sb, { transB: true });
      ga = reduceBatch(t, as);
    }
    if (b.requiresGrad) {
      const t = matmulRaw(sa, g, { transA: true });
      gb = reduceBatch(t, bs);
    }
    return [ga, gb];
  });
  return c;
}

/**
 * Sum a gradient over the batch dimension its operand was broadcast along: a 2-D
 * operand ([m, k] against [b, m, k]) or a 3-D operand with batch 1 ([1, m, k]).
 */
function reduceBatch(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const r = sumTo(t, shape);
  t.dispose();
  return r;
}

/** y = x · wᵀ + b with w of shape [out, in] (PyTorch's nn.Linear). */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, opts: { relu?: boolean } = {}): Tensor {
  checkF32Pair(x, w, 'linear', 'x', 'weight');
  if (x.rank !== 2 || w.rank !== 2) throw new OpError('linear', `expects x [batch, in] and weight [out, in], got ${shapeStr(x.shape)} and ${shapeStr(w.shape)}`);
  if (x.shape[1] !== w.shape[1]) throw new OpError('linear', `x ${shapeStr(x.shape)} has ${x.shape[1]} features but weight ${shapeStr(w.shape)} expects ${w.shape[1]}`);
  if (b) {
    checkF32(b, 'linear', 'bias');
    if (b.rank !== 1 || b.shape[0] !== w.shape[0]) throw new OpError('linear', `bias ${shapeStr(b.shape)} must be [${w.shape[0]}]`);
  }
  const relu = !!opts.relu;
  const y = matmulRaw(x, w, { transB: true, bias: b ?? null, relu });
  const saved = relu ? [x, w, y] : [x, w];
  record('linear', b ? [x, w, b] : [x, w], y, saved, (g, [sx, sw, sy]) => {
    let gz = g;
    if (relu) gz = reluMask(g, sy);
    const gx = x.requiresGrad ? matmulRaw(gz, sw) : null;
    const gw = w.requiresGrad ? matmulRaw(gz, sx, { transA: true }) : null;
    const gb = b && b.requiresGrad ? sumTo(gz, [w.shape[0]]) : null;
    if (gz !== g) gz.dispose();
    return b ? [gx, gw, gb] : [gx, gw];
  });
  return y;
}

import { reluBackward as reluMask } from './activation.js';
