// Convolutions lowered to the engine's matmul (matmulRaw), so they run on whatever matmul
// variant the adapter tunes ('sg' on lavapipe): 1×1 convolutions directly as batched matmuls,
// dense k×k ones through an explicit im2col buffer (kernels/conv2d_im2col.wgsl: IM2COL, COL2IM,
// FLIPW, BIASACT; their uniform blocks are declared here). The choice of when to lower is
// policy.ts's (convTuning.matmul1x1, convTuning.im2col); docs/conv.md has the measurements.

import colSrc from '../../../kernels/conv2d_im2col.wgsl';
import { paramBlock } from '../../gpu/index.js';
import type { Tensor } from '../../tensor/index.js';
import { out, gpu, grid } from '../common.js';
import { ACT_CODE, type Activation } from '../activation.js';
import { matmulRaw, transposeRaw } from '../matmul.js';
import { OP, type ConvGeom, flippedGeom } from './geometry.js';
import { convTuning } from './policy.js';
import { reduceSplits } from './direct.js';
import { variant } from './variants.js';
import { type Elem, operandElem } from '../precision.js';

const FILE = 'kernels/conv2d_im2col.wgsl';
const WINDOW = {
  cin: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32',
} as const;
/** IM2COL: the convolution window; pixel_rows selects the [N·P, K] layout (else [N, K, P]); runs = invocations */
const Im2colParams = paramBlock('conv2d.im2col', { ...WINDOW, pixel_rows: 'bool', runs: 'u32' });
/** COL2IM: the convolution window; input_rows = N·Cin·H (one invocation each) */
const Col2imParams = paramBlock('conv2d.col2im', { ...WINDOW, input_rows: 'u32' });
/** FLIPW: W [cout, cin, kh, kw]; oihw selects the OIHW output layout (else [Cout·KH·KW, Cin]); elements of W */
const FlipWeightParams = paramBlock('conv2d.flip_weight', { cin: 'u32', cout: 'u32', kh: 'u32', kw: 'u32', oihw: 'bool', elements: 'u32' });
/** BIASACT: Y [planes = N·C, plane_size = P] with C = channels; act (ACT_CODE) after the bias when has_bias */
const BiasActParams = paramBlock('conv2d.bias_act', { planes: 'u32', plane_size: 'u32', channels: 'u32', act: 'u32', has_bias: 'bool' });

const window = (g: ConvGeom, kh = g.kh, kw = g.kw) => ({ cin: g.cin, h: g.h, w: g.w, oh: g.oh, ow: g.ow, kh, kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw });

const im2colKernel = (elem: Elem) => variant('conv2d:im2col', colSrc, FILE, ['IM2COL'], {}, Im2colParams, elem);
const col2imKernel = () => variant('conv2d:col2im', colSrc, FILE, ['COL2IM'], {}, Col2imParams);
const flipKernel = (elem: Elem) => variant('conv2d:flipw', colSrc, FILE, ['FLIPW'], {}, FlipWeightParams, elem);
const biasActKernel = () => variant('conv2d:biasact', colSrc, FILE, ['BIASACT'], {}, BiasActParams);

// ---- the im2col kernels ---------------------------------------------------------------------

/** im2col of x for geometry g: 'nkp' = [N, K, P] (the forward's B operand), 'npk' = [N·P, K] (the weight gradient's). */
function im2col(x: Tensor, g: ConvGeom, layout: 'nkp' | 'npk'): Tensor {
  const K = g.cin * g.kh * g.kw;
  const P = g.oh * g.ow;
  const elem = operandElem(OP, { x });
  const col = out(layout === 'nkp' ? [g.n, K, P] : [g.n * P, K], elem);
  // runs of outputs per invocation: rows (n, k, oy) in [N, K, P], (n, p, ci) in [N·P, K]
  const runs = layout === 'nkp' ? g.n * K * g.oh : g.n * P * g.cin;
  gpu().dispatch({
    kernel: im2colKernel(elem), label: `conv2d_im2col(${layout === 'npk' ? 'rows' : 'cols'}${elem === 'f16' ? ',f16' : ''})`,
    bindings: [x.slice(OP), col.slice(OP)],
    params: { ...window(g), pixel_rows: layout === 'npk', runs },
    workgroups: grid(runs, 64),
  });
  return col;
}

/** Flipped, channel-swapped weights: 'matmul' = [Cout·KH·KW, Cin] (sg's A), 'oihw' = [Cin, Cout, KH, KW]. */
export function flipWeight(w: Tensor, g: ConvGeom, layout: 'matmul' | 'oihw'): Tensor {
  const elem = operandElem(OP, { w });
  const wf = out(layout === 'matmul' ? [g.cout * g.kh * g.kw, g.cin] : [g.cin, g.cout, g.kh, g.kw], elem);
  gpu().dispatch({
    kernel: flipKernel(elem), label: elem === 'f16' ? 'conv2d_flip_weight(f16)' : 'conv2d_flip_weight',
    bindings: [w.slice(OP), wf.slice(OP)],
    params: { cin: g.cin, cout: g.cout, kh: g.kh, kw: g.kw, oihw: layout === 'oihw', elements: wf.size },
    workgroups: grid(wf.size, 64),
  });
  return wf;
}

/** y3 [N, Cout, P] ← act(y3 + b) in place (the bias only when given). */
function biasAct(y3: Tensor, b: Tensor | null, g: ConvGeom, act: Activation): void {
  const planes = g.n * g.cout;
  gpu().dispatch({
    kernel: biasActKernel(), label: b ? 'conv2d_bias_act' : 'conv2d_act',
    bindings: [b ? b.slice(OP) : gpu().placeholder(), y3.slice(OP)],
    params: { planes, plane_size: g.oh * g.ow, channels: g.cout, act: ACT_CODE[act], has_bias: !!b },
    workgroups: grid(planes, 64),
  });
}

/**
 * The epilogue of a lowered forward: matmulRaw's own fuses the activation but adds its bias along
 * columns (the conv bias runs along rows), so with a bias BIASACT applies both after the product.
 * Returns the `act` option for matmulRaw and whether BIASACT must run.
 */
function epilogue(b: Tensor | null, act: Activation): { act: Activation; pass: boolean } {
  return b ? { act: 'none', pass: true } : { act, pass: false };
}

/** [N, P, C] → a fresh [N·P, C] view (the original handle disposed). */
function flatT(t: Tensor): Tensor {
  const v = t.detachedView([t.shape[0] * t.shape[1], t.shape[2]]);
  t.dispose();
  return v;
}

/** A fresh view of `t` with `shape` (the original handle disposed). */
function reshaped(t: Tensor, shape: number[]): Tensor {
  const v = t.detachedView(shape);
  t.dispose();
  return v;
}

// ---- 1×1 convolutions as matmuls ------------------------------------------------------------

/** 1×1 forward without a bias: y[n] = W·x[n] (matmul's bias would run along columns). */
export function pointwiseForward(x: Tensor, w: Tensor, g: ConvGeom, act: Activation): Tensor {
  const x3 = x.detachedView([g.n, g.cin, g.h * g.w]);
  const w2 = w.detachedView([g.cout, g.cin]);
  const e = epilogue(null, act);
  const y3 = matmulRaw(w2, x3, { act: e.act });
  if (e.pass) biasAct(y3, null, g, act);
  x3.dispose(); w2.dispose();
  return reshaped(y3, [g.n, g.cout, g.oh, g.ow]);
}

/** 1×1 input gradient: dx[n] = Wᵀ·dy[n]. */
export function pointwiseInputGrad(gy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  const g3 = gy.detachedView([g.n, g.cout, g.oh * g.ow]);
  const w2 = w.detachedView([g.cout, g.cin]);
  const gx3 = matmulRaw(w2, g3, { transA: true });
  g3.dispose(); w2.dispose();
  return reshaped(gx3, [g.n, g.cin, g.h, g.w]);
}

// ---- dense convolutions through im2col ------------------------------------------------------

/** Forward: col [N, K, P], y[n] = W·col[n] (W broadcast), then the epilogue. */
export function loweredForward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: Activation): Tensor {
  const col = im2col(x, g, 'nkp');
  const w2 = w.detachedView([g.cout, g.cin * g.kh * g.kw]);
  const e = epilogue(b, act);
  const y3 = matmulRaw(w2, col, { act: e.act });
  col.dispose(); w2.dispose();
  if (e.pass) biasAct(y3, b, g, act);
  return reshaped(y3, [g.n, g.cout, g.oh, g.ow]);
}

/** Stride-1 input gradient (hasFlippedForm): dX = conv(dY, flipped Wᵀ, padding K−1−p), a lowered forward without col2im. */
export function loweredInputGradFlipped(gy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  const col = im2col(gy, flippedGeom(g), 'nkp');
  const wf = flipWeight(w, g, 'matmul');
  const gx3 = matmulRaw(wf, col, { transA: true });
  col.dispose(); wf.dispose();
  return reshaped(gx3, [g.n, g.cin, g.h, g.w]);
}

/** Input gradient of any stride: dcol[n] = Wᵀ·dY[n] [N, K, P], then COL2IM gathers each input row's taps. */
export function loweredInputGradCol2im(gy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  const g3 = gy.detachedView([g.n, g.cout, g.oh * g.ow]);
  const w2 = w.detachedView([g.cout, g.cin * g.kh * g.kw]);
  const dcol = matmulRaw(w2, g3, { transA: true });
  g3.dispose(); w2.dispose();
  const gx = out([g.n, g.cin, g.h, g.w]);
  const inputRows = g.n * g.cin * g.h;
  gpu().dispatch({
    kernel: col2imKernel(), label: 'conv2d_col2im',
    bindings: [dcol.slice(OP), gx.slice(OP)],
    params: { ...window(g), input_rows: inputRows },
    workgroups: grid(inputRows, 64),
  });
  dcol.dispose();
  return gx;
}

/**
 * Weight gradient: dW [Cout, K] = Σ_{n, p} dY[n, :, p] ⊗ col[n, :, p], one product reducing over
 * N·P with both operands' reduction dimension outermost (what 'sg' reads without transposes).
 */
export function loweredWeightGrad(gy: Tensor, x: Tensor, g: ConvGeom): Tensor {
  const colT = im2col(x, g, 'npk');
  // dY [N, Cout, P] → [N·P, Cout] (matmul's transpose kernel); the N·P reduction is split
  // into S batches summed afterwards (shorter serial loops: ~12% faster at S = 4, 16)
  const gyT = flatT(transposeRaw(gy, g.n, g.cout, g.oh * g.ow));
  const rows = g.n * g.oh * g.ow;
  let S = convTuning.im2colWgradSplits;
  while (S > 1 && rows % S !== 0) S--;
  const a = gyT.detachedView([S, rows / S, g.cout]);
  const bv = colT.detachedView([S, rows / S, g.cin * g.kh * g.kw]);
  const parts = matmulRaw(a, bv, { transA: true });
  a.dispose(); bv.dispose(); colT.dispose(); gyT.dispose();
  const dw = reduceSplits(parts, S, [g.cout, g.cin * g.kh * g.kw]);
  return reshaped(dw, [g.cout, g.cing, g.kh, g.kw]);
}
