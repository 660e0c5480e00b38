// The matmul launchers (no autograd): matmulRaw, C = op(A)·op(B) (+ bias per column, then a
// fused activation), 2-D or batched over a leading dimension; and transposeRaw, the batched
// transpose that feeds the 'sg' variant. The kernels are the blocks of kernels/matmul.wgsl:
//   RB, TILED   scalar loads, transposes from the uniforms (trans_a, trans_b): one pipeline
//               serves all four forms (a TILED pipeline costs seconds to compile on lavapipe);
//   RB4         the vec4 form of 'rb' for aligned shapes, transposes as override constants TA/TB;
//   SG          one fixed layout (A [K, M], B [K, N]): other layouts are transposed first;
//   TRANSPOSE   Y[b] = X[b]ᵀ.
// The epilogue is uniform (has_bias, act); the bias binding is always present (the device's
// placeholder buffer without a bias), so no epilogue needs a pipeline of its own. The variant
// comes from the `variant` option or matmulVariant (matmul-variant.ts).
// Operands may be f16 (both, mixed precision): the same kernels instantiated with ELEM = f16
// (src/ops/precision.ts), registered on first use; C is f32 either way (f32 accumulation).

import src from '../../kernels/matmul.wgsl';
import { registerKernel, instantiate, paramBlock, gpu, type Kernel, type ParamBlock, type ParamFields } from '../gpu/index.js';
import { Tensor, empty } from '../tensor/index.js';
import { out, OpError, shapeStr } from './common.js';
import { ACT_CODE, ACT_WGSL, checkActivation, type Activation } from './activation.js';
import { MatmulVariant, matmulVariant, subgroupMatmulSupported } from './matmul-variant.js';
import { type Elem, withElem, elemSuffix, operandElem } from './precision.js';

const FILE = 'kernels/matmul.wgsl';
/** The GEMM kernels' uniforms: sizes, per-batch strides in floats (0 broadcasts), the epilogue. */
const GEMM_FIELDS = {
  m: 'u32', n: 'u32', k: 'u32', stride_a: 'u32', stride_b: 'u32', stride_c: 'u32', has_bias: 'bool', act: 'u32',
} as const;
const GemmParams = paramBlock('matmul', GEMM_FIELDS);
/** RB and TILED read the transposes from the uniforms too. */
const GemmTransParams = paramBlock('matmul.trans', { ...GEMM_FIELDS, trans_a: 'bool', trans_b: 'bool' });
const TransposeParams = paramBlock('matmul.transpose', { rows: 'u32', cols: 'u32', batch_stride: 'u32' });

const gemm = (blocks: string[], elem: Elem) => withElem(instantiate(src, blocks, { APPLY_ACT_FN: ACT_WGSL }), elem);
function reg<F extends ParamFields>(name: string, blocks: string[], elem: Elem, params: ParamBlock<F>): Kernel<F> {
  return registerKernel({ name: `matmul:${name}${elemSuffix(elem)}`, code: gemm(blocks, elem), file: FILE, params });
}
const kernelSet = (elem: Elem) => ({
  rb: reg('rb', ['RB', 'MM', 'TRANS_LOADS', 'OUT'], elem, GemmTransParams),
  tiled: reg('tiled', ['TILED', 'MM', 'TRANS_LOADS', 'OUT'], elem, GemmTransParams),
  rb4: reg('rb4', ['RB4', 'V4', 'OUT'], elem, GemmParams),
  transpose: reg('transpose', ['TRANSPOSE'], elem, TransposeParams),
});
type KernelSet = ReturnType<typeof kernelSet>;
// The f32 'rb', 'tiled', 'rb4' and 'transpose' compile at init on every adapter; 'sg' uses
// `enable subgroups` and the f16 forms `enable f16`, so those are registered (and compiled) on
// first use, only where the device has the feature.
const F32: KernelSet = kernelSet('f32');
let F16: KernelSet | null = null;
const sgKernels: Partial<Record<Elem, Kernel<typeof GEMM_FIELDS>>> = {};
/** The non-subgroup kernels for operands of `elem`. */
function kernels(elem: Elem): KernelSet {
  return elem === 'f32' ? F32 : (F16 ??= kernelSet('f16'));
}
function sg(elem: Elem): Kernel<typeof GEMM_FIELDS> {
  return (sgKernels[elem] ??= reg('sg', ['SG', 'MM', 'OUT'], elem, GemmParams));
}

/** output tile of one workgroup, [rows, columns] */
const TILE: Record<MatmulVariant, [number, number]> = { rb: [32, 32], sg: [24, 16], tiled: [64, 64] };

export interface MatmulRawOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor | null;
  /** activation applied after the bias (default 'none') */
  act?: Activation;
  variant?: MatmulVariant;
}

/** Y[b] = X[b]ᵀ for X viewed as [batch, rows, cols]; returns [batch, cols, rows]. */
export function transposeRaw(x: Tensor, batch: number, rows: number, cols: number): Tensor {
  const elem = operandElem('matmul', { x });
  const y = empty([batch, cols, rows], elem);
  gpu().dispatch({
    kernel: kernels(elem).transpose,
    label: elem === 'f16' ? 'matmul(transpose,f16)' : 'matmul(transpose)',
    params: { rows, cols, batch_stride: rows * cols },
    bindings: [x.slice('matmul'), y.slice('matmul')],
    workgroups: [Math.ceil(cols / 32), Math.ceil(rows / 32), batch],
  });
  return y;
}

/** Whether every dispatch of `variant` for this product fits the per-dimension workgroup limit. */
function fitsGrid(variant: MatmulVariant, m: number, n: number, k: number, batch: number, ta: boolean, tb: boolean): boolean {
  const lim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const [tm, tn] = TILE[variant];
  if (Math.ceil(n / tn) > lim || Math.ceil(m / tm) > lim || batch > lim) return false;
  if (variant === 'sg') {
    // transposes: A [m, k] when not transposed, B [n, k] when transposed; grid (cols/32, rows/32)
    if (!ta && (Math.ceil(k / 32) > lim || Math.ceil(m / 32) > lim)) return false;
    if (tb && (Math.ceil(k / 32) > lim || Math.ceil(n / 32) > lim)) return false;
  }
  return true;
}

/**
 * C = op(A)·op(B) for 2-D operands, or batched when either is 3-D ([batch, ., .];
 * a 2-D operand is broadcast over the batch). No autograd.
 */
export function matmulRaw(a: Tensor, b: Tensor, o: MatmulRawOptions = {}): Tensor {
  let ta = !!o.transA;
  let tb = !!o.transB;
  const act = checkActivation('matmul', o.act);
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
  const elem = operandElem('matmul', { a, b });
  if (o.bias && (o.bias.size !== bn)) {
    throw new OpError('matmul', `bias ${shapeStr(o.bias.shape)} must have ${bn} elements (columns of the product)`);
  }
  const batch = Math.max(batchA, batchB);
  const shape = ar === 3 || br === 3 ? [batch, am, bn] : [am, bn];
  const c = out(shape);
  if (c.size === 0) return c;
  const m = am, n = bn, k = ak;
  let variant = o.variant ?? matmulVariant(m, n, k);
  // an empty inner dimension (C = bias or 0) takes the plain kernel: no transposes of empty operands
  if (k === 0 && variant === 'sg') variant = 'rb';
  if (variant === 'sg' && !subgroupMatmulSupported()) {
    if (o.variant) throw new OpError('matmul', `variant 'sg' needs the 'subgroups' feature with subgroups of at least 8 lanes, which this device lacks`);
    variant = 'rb';
  }
  if (!fitsGrid(variant, m, n, k, batch, ta, tb)) {
    // dispatch grids are limited per dimension (65,535 workgroups on most adapters)
    const alt = (['rb', 'tiled'] as MatmulVariant[]).find((v) => fitsGrid(v, m, n, k, batch, ta, tb));
    if (!alt) throw new OpError('matmul', `product ${shapeStr(a.shape)}${ta ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${tb ? 'ᵀ' : ''} needs more workgroups per dimension than the device allows (${gpu().limits.maxComputeWorkgroupsPerDimension})`);
    variant = alt;
  }
  let av = a;
  let bv = b;
  const temps: Tensor[] = [];
  if (variant === 'sg') {
    // the kernel reads A as [K, M] and B as [K, N]
    if (!ta) {
      av = transposeRaw(a, batchA, m, k);
      temps.push(av);
      ta = true;
    }
    if (tb) {
      bv = transposeRaw(b, batchB, n, k);
      temps.push(bv);
      tb = false;
    }
  }
  const [tileM, tileN] = TILE[variant];
  const params = {
    m, n, k, stride_a: batchA === 1 ? 0 : m * k, stride_b: batchB === 1 ? 0 : k * n, stride_c: m * n, has_bias: !!o.bias, act: ACT_CODE[act],
  };
  const desc = {
    bindings: [av.slice('matmul'), bv.slice('matmul'), c.slice('matmul'), o.bias ? o.bias.slice('matmul') : gpu().placeholder()],
    workgroups: [Math.ceil(n / tileN), Math.ceil(m / tileM), batch] as const,
  };
  // 'rb' reads vec4s where the vectorised dimensions are multiples of 4
  const vec4 = variant === 'rb' && k % 4 === 0 && (!ta || m % 4 === 0) && (tb || n % 4 === 0);
  const h = elem === 'f16' ? ',f16' : '';
  if (vec4) gpu().dispatch({ kernel: kernels(elem).rb4, label: `matmul(rb4${h})`, params, constants: { TA: +ta, TB: +tb }, ...desc });
  else if (variant === 'sg') gpu().dispatch({ kernel: sg(elem), label: `matmul(sg${h})`, params, ...desc });
  else gpu().dispatch({ kernel: kernels(elem)[variant], label: `matmul(${variant}${h})`, params: { ...params, trans_a: ta, trans_b: tb }, ...desc });
  for (const t of temps) t.dispose();
  return c;
}
