// The direct convolution kernels and their launchers (no autograd, no path choice):
//   kernels/conv2d.wgsl        forward, implicit GEMM, register-blocked, fused bias + activation
//   kernels/conv2d_dgrad.wgsl  input gradient, transposed implicit GEMM (stride residues)
//   kernels/conv2d_wgrad.wgsl  weight gradient (implicit GEMM over N·OH·OW, split-K), the sum of
//                              split parts (REDUCE), bias gradient (BGRAD)
//   kernels/conv2d_dw.wgsl     depthwise 3×3 / 5×5 forward and weight gradient
// Each kernel's uniform block is declared here; block shapes and split targets come from
// policy.ts. Which of these runs for a convolution is launch.ts's choice.

import fwdSrc from '../../../kernels/conv2d.wgsl';
import dgradSrc from '../../../kernels/conv2d_dgrad.wgsl';
import wgradSrc from '../../../kernels/conv2d_wgrad.wgsl';
import dwSrc from '../../../kernels/conv2d_dw.wgsl';
import { paramBlock, type ParamValues } from '../../gpu/index.js';
import type { Tensor } from '../../tensor/index.js';
import { out, gpu, grid } from '../common.js';
import { ACT_CODE, type Activation } from '../activation.js';
import { OP, type ConvGeom } from './geometry.js';
import { convTuning, blockFor, columnsFor, minWorkgroups } from './policy.js';
import { variant } from './variants.js';
import { type Elem, operandElem } from '../precision.js';

// ---- parameter blocks -----------------------------------------------------------------------

/** The geometry every implicit-GEMM kernel reads (ConvGeom's fields). */
const GEOM = {
  n: 'u32', cin: 'u32', h: 'u32', w: 'u32', cout: 'u32', oh: 'u32', ow: 'u32', groups: 'u32',
  kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', cing: 'u32', coutg: 'u32',
} as const;
type GeomValues = ParamValues<typeof GEOM>;

/** kernels/conv2d.wgsl: owb column blocks per row, npix pixel blocks, cob channel blocks, the epilogue */
const ConvForwardParams = paramBlock('conv2d.forward', { ...GEOM, owb: 'u32', npix: 'u32', cob: 'u32', act: 'u32', has_bias: 'bool' });
/** kernels/conv2d_dgrad.wgsl: qbn column blocks per residue row, npix pixel blocks, cib channel blocks */
const ConvInputGradParams = paramBlock('conv2d.input_grad', { ...GEOM, qbn: 'u32', npix: 'u32', cib: 'u32' });
/** kernels/conv2d_wgrad.wgsl WGRAD: nrow weight rows (cinG·KH), splits of the N·OH reduction, cob channel blocks */
const ConvWeightGradParams = paramBlock('conv2d.weight_grad', { ...GEOM, nrow: 'u32', splits: 'u32', cob: 'u32' });
/** kernels/conv2d_wgrad.wgsl REDUCE: `splits` parts of `len` values summed */
const SplitSumParams = paramBlock('conv2d.split_sum', { len: 'u32', splits: 'u32' });
/** kernels/conv2d_wgrad.wgsl BGRAD: dY [n, c, hw], the batch split in `splits` */
const BiasGradParams = paramBlock('conv2d.bias_grad', { n: 'u32', c: 'u32', hw: 'u32', splits: 'u32' });
/** kernels/conv2d_dw.wgsl FWD: c channels, owb column blocks per row, the epilogue */
const DepthwiseForwardParams = paramBlock('conv2d.dw_forward', {
  n: 'u32', c: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', ph: 'u32', pw: 'u32', owb: 'u32', act: 'u32', has_bias: 'bool',
});
/** kernels/conv2d_dw.wgsl WGRAD: c channels, owb column blocks per row, splits of the reduction */
const DepthwiseWeightGradParams = paramBlock('conv2d.dw_weight_grad', {
  n: 'u32', c: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', ph: 'u32', pw: 'u32', owb: 'u32', splits: 'u32',
});

const geom = (g: ConvGeom): GeomValues => ({
  n: g.n, cin: g.cin, h: g.h, w: g.w, cout: g.cout, oh: g.oh, ow: g.ow, groups: g.groups,
  kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, cing: g.cing, coutg: g.coutg,
});

// ---- kernel variants (registered on first use) ----------------------------------------------

const FWD = 'kernels/conv2d.wgsl';
const DGRAD = 'kernels/conv2d_dgrad.wgsl';
const WGRAD = 'kernels/conv2d_wgrad.wgsl';
const DW = 'kernels/conv2d_dw.wgsl';
const blockConsts = (bm: number, bp: number, kw: number, sw: number) => ({ BM_VALUE: bm, BP_VALUE: bp, KW_VALUE: kw, SW_VALUE: sw });
const fwdKernel = (bm: number, bp: number, kw: number, sw: number, elem: Elem) =>
  variant(`conv2d:fwd:${bm}x${bp}:k${kw}s${sw}`, fwdSrc, FWD, [], blockConsts(bm, bp, kw, sw), ConvForwardParams, elem);
const dgradKernel = (bm: number, bp: number, kw: number, sw: number, elem: Elem) =>
  variant(`conv2d:dgrad:${bm}x${bp}:k${kw}s${sw}`, dgradSrc, DGRAD, [], blockConsts(bm, bp, kw, sw), ConvInputGradParams, elem);
const wgradKernel = (bm: number, bq: number, kw: number, sw: number, elem: Elem) =>
  variant(`conv2d:wgrad:${bm}x${bq}:k${kw}s${sw}`, wgradSrc, WGRAD, ['WGRAD'], blockConsts(bm, bq, kw, sw), ConvWeightGradParams, elem);
const reduceKernel = () => variant('conv2d:reduce', wgradSrc, WGRAD, ['REDUCE'], {}, SplitSumParams);
const bgradKernel = () => variant('conv2d:bgrad', wgradSrc, WGRAD, ['BGRAD'], {}, BiasGradParams);
const dwForwardKernel = (ks: number, st: number, bp: number, elem: Elem) =>
  variant(`conv2d:dw:FWD:${ks}s${st}x${bp}`, dwSrc, DW, ['FWD'], { KS_VALUE: ks, ST_VALUE: st, BP_VALUE: bp }, DepthwiseForwardParams, elem);
const dwWgradKernel = (ks: number, st: number, bp: number, elem: Elem) =>
  variant(`conv2d:dw:WGRAD:${ks}s${st}x${bp}`, dwSrc, DW, ['WGRAD'], { KS_VALUE: ks, ST_VALUE: st, BP_VALUE: bp }, DepthwiseWeightGradParams, elem);
/** ',f16' in a dispatch label when the operands are f16 (f32 labels stay as they were). */
const h = (elem: Elem) => (elem === 'f16' ? ',f16' : '');

// ---- launchers ------------------------------------------------------------------------------

/** The bias binding: the bias, or the device's placeholder (has_bias = false: never read). */
const biasSlice = (b: Tensor | null) => (b ? b.slice(OP) : gpu().placeholder());

/** Forward on the implicit-GEMM kernel: y = act(conv(x, w) + b). */
export function directForward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: Activation, label: string): Tensor {
  const y = out([g.n, g.cout, g.oh, g.ow]);
  const bm = blockFor(g.coutg, convTuning.fwd.bm);
  const bp = columnsFor(g.ow, convTuning.fwd.bp);
  const owb = Math.ceil(g.ow / bp);
  const npix = g.n * g.oh * owb;
  const cob = Math.ceil(g.coutg / bm);
  const [wx, wy] = grid(npix, 64);
  const elem = operandElem(OP, { x, w });
  gpu().dispatch({
    kernel: fwdKernel(bm, bp, g.kw, g.sw, elem), label: `${label}(${bm}x${bp}${h(elem)})`,
    bindings: [x.slice(OP), w.slice(OP), y.slice(OP), biasSlice(b)],
    params: { ...geom(g), owb, npix, cob, act: ACT_CODE[act], has_bias: !!b },
    workgroups: [wx, wy, g.groups * cob],
  });
  return y;
}

/** Forward on the depthwise kernel (policy.useDepthwiseKernels). */
export function depthwiseForward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: Activation): Tensor {
  const y = out([g.n, g.cout, g.oh, g.ow]);
  const bp = convTuning.dwBp;
  const owb = Math.ceil(g.ow / bp);
  const [wx, wy] = grid(g.n * g.cin * g.oh * owb, 64);
  const elem = operandElem(OP, { x, w });
  gpu().dispatch({
    kernel: dwForwardKernel(g.kh, g.sh, bp, elem), label: `conv2d_dw_forward${elem === 'f16' ? '(f16)' : ''}`,
    bindings: [x.slice(OP), w.slice(OP), y.slice(OP), biasSlice(b)],
    params: { n: g.n, c: g.cin, h: g.h, w: g.w, oh: g.oh, ow: g.ow, ph: g.ph, pw: g.pw, owb, act: ACT_CODE[act], has_bias: !!b },
    workgroups: [wx, wy],
  });
  return y;
}

/** Input gradient on the transposed implicit-GEMM kernel (depthwise included, one channel per invocation). */
export function directInputGrad(gy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  const gx = out([g.n, g.cin, g.h, g.w]);
  const bm = g.cing === 1 ? 1 : blockFor(g.cing, convTuning.dgrad.bm);
  const bp = convTuning.dgrad.bp;
  const qbn = Math.ceil(Math.ceil(g.w / g.sw) / bp);
  const npix = g.n * g.h * g.sw * qbn;
  const cib = Math.ceil(g.cing / bm);
  const [wx, wy] = grid(npix, 64);
  const elem = operandElem(OP, { gy, w });
  gpu().dispatch({
    kernel: dgradKernel(bm, bp, g.kw, g.sw, elem), label: `conv2d_input_grad(${bm}x${bp}${h(elem)})`,
    bindings: [gy.slice(OP), w.slice(OP), gx.slice(OP)],
    params: { ...geom(g), qbn, npix, cib },
    workgroups: [wx, wy, g.groups * cib],
  });
  return gx;
}

/** Sum `parts` [S, len] over S into a new tensor of `shape` (or reshape when S = 1); disposes `parts`. */
export function reduceSplits(parts: Tensor, splits: number, shape: number[]): Tensor {
  if (splits === 1) {
    const v = parts.detachedView(shape);
    parts.dispose();
    return v;
  }
  const len = parts.size / splits;
  const o = out(shape);
  gpu().dispatch({
    kernel: reduceKernel(), label: 'conv2d_split_reduce',
    bindings: [parts.slice(OP), o.slice(OP)],
    params: { len, splits },
    workgroups: grid(len, 64),
  });
  parts.dispose();
  return o;
}

/** Weight gradient on the implicit-GEMM kernel, its N·OH reduction split to reach minWorkgroups(). */
export function directWeightGrad(gy: Tensor, x: Tensor, g: ConvGeom): Tensor {
  const bm = blockFor(g.coutg, convTuning.wgrad.bm);
  const bq = convTuning.wgrad.bp;
  const nrow = g.cing * g.kh;
  const cob = Math.ceil(g.coutg / bm);
  const wx = Math.ceil(nrow / 64);
  const base = wx * g.groups * cob;
  const rows = g.n * g.oh;
  const splits = Math.max(1, Math.min(Math.ceil(minWorkgroups() / base), rows, 65535));
  const parts = out([splits, g.cout * g.cing * g.kh * g.kw]);
  const elem = operandElem(OP, { gy, x });
  gpu().dispatch({
    kernel: wgradKernel(bm, bq, g.kw, g.sw, elem), label: `conv2d_weight_grad(${bm}x${bq}${h(elem)})`,
    bindings: [gy.slice(OP), x.slice(OP), parts.slice(OP)],
    params: { ...geom(g), nrow, splits, cob },
    workgroups: [wx, splits, g.groups * cob],
  });
  return reduceSplits(parts, splits, [g.cout, g.cing, g.kh, g.kw]);
}

/** Weight gradient on the depthwise kernel, its N·OH·OW reduction split to reach minWorkgroups(). */
export function depthwiseWeightGrad(gy: Tensor, x: Tensor, g: ConvGeom): Tensor {
  const bp = convTuning.dwBp;
  const owb = Math.ceil(g.ow / bp);
  const items = g.n * g.oh * owb;
  const splits = Math.max(1, Math.min(Math.ceil(minWorkgroups() / g.cin), Math.floor(items / 64)));
  const parts = out([splits, g.cin * g.kh * g.kw]);
  const elem = operandElem(OP, { gy, x });
  gpu().dispatch({
    kernel: dwWgradKernel(g.kh, g.sh, bp, elem), label: `conv2d_dw_weight_grad${elem === 'f16' ? '(f16)' : ''}`,
    bindings: [gy.slice(OP), x.slice(OP), parts.slice(OP)],
    params: { n: g.n, c: g.cin, h: g.h, w: g.w, oh: g.oh, ow: g.ow, ph: g.ph, pw: g.pw, owb, splits },
    workgroups: [splits, g.cin, 1],
  });
  return reduceSplits(parts, splits, [g.cout, g.cing, g.kh, g.kw]);
}

/** Bias gradient: the output gradient summed over N, OH, OW, the batch split in `splits` parts. */
export function biasGrad(gy: Tensor, g: ConvGeom, splits: number): Tensor {
  const parts = out([splits, g.cout]);
  gpu().dispatch({
    kernel: bgradKernel(), label: 'conv2d_bias_grad',
    bindings: [gy.slice(OP), parts.slice(OP)],
    params: { n: g.n, c: g.cout, hw: g.oh * g.ow, splits },
    workgroups: [g.cout, splits],
  });
  return reduceSplits(parts, splits, [g.cout]);
}
