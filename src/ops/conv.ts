// 2-D convolution (PyTorch's conv2d): NCHW input, OIHW weight [Cout, Cin/groups, KH, KW],
// optional bias [Cout], stride, zero padding, groups (depthwise included), and a fused
// bias + ReLU epilogue. Forward, input-, weight- and bias-gradient kernels:
//   kernels/conv2d.wgsl        forward, implicit GEMM, register-blocked
//   kernels/conv2d_dgrad.wgsl  input gradient, transposed implicit GEMM (stride residues)
//   kernels/conv2d_wgrad.wgsl  weight gradient (implicit GEMM over N·OH·OW, split-K),
//                              split reduction, bias gradient
//   kernels/conv2d_dw.wgsl     depthwise 3×3 / 5×5 forward and weight gradient
//   kernels/conv2d_im2col.wgsl explicit im2col / col2im / bias+ReLU around matmulRaw: dense
//                              convolutions lowered to the subgroup ('sg') matmul where it
//                              can run and measured faster (convTuning.im2col)
// 1×1 stride-1 unpadded ungrouped convolutions without bias run as matmuls (matmulRaw).
// Algorithm choices and measurements: docs/conv.md.

import fwdSrc from '../../kernels/conv2d.wgsl';
import dgradSrc from '../../kernels/conv2d_dgrad.wgsl';
import wgradSrc from '../../kernels/conv2d_wgrad.wgsl';
import dwSrc from '../../kernels/conv2d_dw.wgsl';
import colSrc from '../../kernels/conv2d_im2col.wgsl';
import { registerKernel } from '../gpu/index.js';
import { instantiate } from '../gpu/index.js';
import { Tensor } from '../tensor/index.js';
import { record } from '../autograd/tape.js';
import { checkF32, out, OpError, shapeStr, gpu, grid } from './common.js';
import { matmulRaw, matmulVariant, subgroupMatmulSupported, transposeRaw } from './matmul.js';
import { reluBackward } from './activation.js';

export interface Conv2dOptions {
  /** stride, one number or [h, w] (default 1) */
  stride?: number | readonly [number, number];
  /** zero padding on each side, one number or [h, w] (default 0) */
  padding?: number | readonly [number, number];
  /** channel groups: Cin and Cout must be multiples; groups = Cin = Cout is depthwise (default 1) */
  groups?: number;
  /** apply ReLU in the forward kernel's epilogue (default false) */
  relu?: boolean;
}

/** Shapes and hyper-parameters of one convolution. */
export interface ConvGeom {
  n: number; cin: number; h: number; w: number;
  cout: number; oh: number; ow: number; groups: number;
  kh: number; kw: number; sh: number; sw: number;
  ph: number; pw: number; cing: number; coutg: number;
}

const OP = 'conv2d';

function pair(v: number | readonly [number, number] | undefined, dflt: number, what: string, min: number): [number, number] {
  const p: number[] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new OpError(OP, `${what} must be an integer >= ${min} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

/** Validate arguments and compute the geometry; errors name the op and the shapes. */
export function conv2dGeometry(xs: readonly number[], ws: readonly number[], bs: readonly number[] | null, o: Conv2dOptions = {}): ConvGeom {
  const shapes = `input ${shapeStr(xs)}, weight ${shapeStr(ws)}${bs ? `, bias ${shapeStr(bs)}` : ''}`;
  if (xs.length !== 4) throw new OpError(OP, `input must be 4-D [N, C, H, W], got ${shapeStr(xs)} (${shapes})`);
  if (ws.length !== 4) throw new OpError(OP, `weight must be 4-D [Cout, Cin/groups, KH, KW], got ${shapeStr(ws)} (${shapes})`);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new OpError(OP, `groups must be a positive integer, got ${groups}`);
  const [sh, sw] = pair(o.stride, 1, 'stride', 1);
  const [ph, pw] = pair(o.padding, 0, 'padding', 0);
  const [n, cin, h, w] = xs;
  const [cout, wcin, kh, kw] = ws;
  if ([n, cin, h, w, cout, wcin, kh, kw].some((d) => d < 1)) throw new OpError(OP, `empty dimensions are not supported (${shapes})`);
  if (cin % groups !== 0) throw new OpError(OP, `input channels ${cin} are not divisible by groups ${groups} (${shapes})`);
  if (cout % groups !== 0) throw new OpError(OP, `output channels ${cout} are not divisible by groups ${groups} (${shapes})`);
  if (wcin !== cin / groups) {
    throw new OpError(OP, `weight expects ${wcin} input channels per group but the input has ${cin} channels in ${groups} group(s) = ${cin / groups} per group (${shapes})`);
  }
  if (bs && (bs.length !== 1 || bs[0] !== cout)) throw new OpError(OP, `bias must be [${cout}], got ${shapeStr(bs)} (${shapes})`);
  if (h + 2 * ph < kh || w + 2 * pw < kw) {
    throw new OpError(OP, `kernel ${kh}×${kw} is larger than the padded input ${h + 2 * ph}×${w + 2 * pw} (${shapes}, padding [${ph}, ${pw}])`);
  }
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  return { n, cin, h, w, cout, oh, ow, groups, kh, kw, sh, sw, ph, pw, cing: cin / groups, coutg: cout / groups };
}

// ---- kernel variants (registered on first use) ------------------------------------------

const registered = new Set<string>();
function kernel(name: string, src: string, file: string, blocks: string[], subst: Record<string, number>): string {
  if (!registered.has(name)) {
    const s: Record<string, string> = {};
    for (const [k, v] of Object.entries(subst)) s[k] = `${v}u`;
    registerKernel(name, instantiate(src, blocks, s), file);
    registered.add(name);
  }
  return name;
}

const fwdKernel = (bm: number, bp: number, kw: number, sw: number) =>
  kernel(`conv2d:fwd:${bm}x${bp}:k${kw}s${sw}`, fwdSrc, 'kernels/conv2d.wgsl', [], { BM_VALUE: bm, BP_VALUE: bp, KW_VALUE: kw, SW_VALUE: sw });
const dgradKernel = (bm: number, bp: number, kw: number, sw: number) =>
  kernel(`conv2d:dgrad:${bm}x${bp}:k${kw}s${sw}`, dgradSrc, 'kernels/conv2d_dgrad.wgsl', [], { BM_VALUE: bm, BP_VALUE: bp, KW_VALUE: kw, SW_VALUE: sw });
const wgradKernel = (bm: number, bq: number, kw: number, sw: number) =>
  kernel(`conv2d:wgrad:${bm}x${bq}:k${kw}s${sw}`, wgradSrc, 'kernels/conv2d_wgrad.wgsl', ['WGRAD'], { BM_VALUE: bm, BP_VALUE: bq, KW_VALUE: kw, SW_VALUE: sw });
const reduceKernel = () => kernel('conv2d:reduce', wgradSrc, 'kernels/conv2d_wgrad.wgsl', ['REDUCE'], {});
const bgradKernel = () => kernel('conv2d:bgrad', wgradSrc, 'kernels/conv2d_wgrad.wgsl', ['BGRAD'], {});
const im2colKernel = (block: 'IM2COL' | 'COL2IM' | 'FLIPW' | 'BIASACT') =>
  kernel(`conv2d:${block.toLowerCase()}`, colSrc, 'kernels/conv2d_im2col.wgsl', [block], {});
const dwKernel = (block: 'FWD' | 'WGRAD', ks: number, st: number, bp: number) =>
  kernel(`conv2d:dw:${block}:${ks}s${st}x${bp}`, dwSrc, 'kernels/conv2d_dw.wgsl', [block], { KS_VALUE: ks, ST_VALUE: st, BP_VALUE: bp });

// ---- tuning knobs (docs/conv.md) ----------------------------------------------------------

/** Register-block shapes: channels per invocation (BM) × columns per invocation (BP). */
export const convTuning = {
  fwd: { bm: 8, bp: 8 },
  dgrad: { bm: 8, bp: 8 },
  /** for the weight gradient, bp is the output columns per reduction step */
  wgrad: { bm: 8, bp: 2 },
  dwBp: 8,
  /** other forward column blocks, taken where they pad the output row less than fwd.bp */
  fwdBpExtra: [10, 14] as number[],
  /** use the dedicated depthwise kernels (false: the grouped implicit-GEMM kernels, BM = 1) */
  depthwiseKernels: true,
  /** run 1×1 stride-1 unpadded convolutions through matmulRaw where the epilogue allows */
  matmul1x1: true,
  /**
   * Workgroups the weight- and bias-gradient dispatches should reach before they stop splitting
   * their reduction over N·OH·OW: on a CPU adapter, and on a hardware GPU (which needs far more
   * to fill its cores: with 32, LeNet's bias gradients ran 6 workgroups on an H100).
   */
  minWorkgroups: 32,
  minWorkgroupsHardware: 1024,
  /** split the bias gradient's batch reduction: 'auto' on hardware GPUs only; true / false to force */
  biasGradSplit: 'auto' as boolean | 'auto',
  /**
   * Lower dense convolutions to matmulRaw through an explicit im2col buffer, per direction:
   * 'auto' where the subgroup matmul can run and the shape is large enough (im2colAuto),
   * true / false to force (true still needs groups = 1 and the buffer to fit).
   */
  im2col: { fwd: 'auto', dgrad: 'auto', wgrad: 'auto' } as Record<'fwd' | 'dgrad' | 'wgrad', boolean | 'auto'>,
  /** batches the lowered weight gradient's N·P reduction is split into (then summed) */
  im2colWgradSplits: 4,
  /**
   * Run a stride-1 dense input gradient (when not lowered) as the direct forward kernel on dY
   * with flipped weights: 'auto' for kernels of 9+ taps on software adapters (LeNet's 5×5
   * conv2: 73 → 47 ms; 3×3: ~6% faster), true / false to force.
   */
  dgradAsForward: 'auto' as boolean | 'auto',
  /** largest im2col buffer, bytes (also capped by the device's storage binding size) */
  im2colMaxBytes: 256 * 1024 * 1024,
};

/**
 * The 'auto' rule of convTuning.im2col.
 * Software adapters (measured on lavapipe, docs/conv.md): lower when the per-image product
 * [Cout, K]·[K, P] would run on the subgroup matmul ('sg'); products in matmul's 'small'
 * bucket (< 2²¹ MACs, where it runs 'rb') stay direct: LeNet's 6→16 5×5 layer (16·100·150
 * MACs per image) runs 2–4× slower lowered.
 * Hardware adapters (measured on an NVIDIA H200, bench/RESULTS.md): lower the forward and the
 * weight gradient of products of >= 2²¹ MACs per image (3×3 [32,64,32,32]→64: forward 1.5×,
 * weight gradient 3.5× faster lowered); the input gradient stays direct (its plain kernel,
 * without the flipped-forward rewrite, was fastest there) and LeNet-sized layers stay direct.
 */
function im2colAuto(g: ConvGeom, dir: 'fwd' | 'dgrad' | 'wgrad'): boolean {
  if (!gpu().info.isSoftware) return dir !== 'dgrad' && g.cout * g.oh * g.ow * g.cin * g.kh * g.kw >= 2 ** 21;
  if (!subgroupMatmulSupported()) return false;
  return matmulVariant(g.cout, g.oh * g.ow, g.cin * g.kh * g.kw) === 'sg';
}

function useIm2col(g: ConvGeom, dir: 'fwd' | 'dgrad' | 'wgrad'): boolean {
  const mode = convTuning.im2col[dir];
  if (mode === false || g.groups !== 1 || isPointwise(g) || isDepthwise(g)) return false;
  // the input gradient's col buffer (of dY over the input's pixels) may be the larger one
  const bytes = 4 * g.n * g.kh * g.kw * Math.max(g.cin * g.oh * g.ow, dir === 'dgrad' ? g.cout * g.h * g.w : 0);
  const lim = gpu().limits;
  if (bytes > Math.min(convTuning.im2colMaxBytes, lim.maxStorageBufferBindingSize, lim.maxBufferSize)) return false;
  return mode === true || im2colAuto(g, dir);
}

/** Flipped, channel-swapped weights: layout 0 = [Cout·KH·KW, Cin] (sg's A), 1 = OIHW [Cin, Cout, KH, KW]. */
function flipWeight(w: Tensor, g: ConvGeom, layout: 0 | 1): Tensor {
  const wf = out(layout === 0 ? [g.cout * g.kh * g.kw, g.cin] : [g.cin, g.cout, g.kh, g.kw]);
  gpu().dispatch({
    module: im2colKernel('FLIPW'), label: 'conv2d_flip_weight',
    bindings: [w.slice(OP), wf.slice(OP)],
    u: [g.n, g.cin, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, layout, wf.size, g.cout, 0],
    workgroups: grid(wf.size, 64),
  });
  return wf;
}

/** Stride-1 dense input gradient as a forward convolution of dY (convTuning.dgradAsForward). */
function useFlippedForward(g: ConvGeom): boolean {
  const mode = convTuning.dgradAsForward;
  if (mode === false || g.groups !== 1 || g.sh !== 1 || g.sw !== 1 || g.ph >= g.kh || g.pw >= g.kw || isPointwise(g)) return false;
  // 'auto': software adapters only (on an H200 the plain input-gradient kernel was 3.5× faster)
  return mode === true || (g.kh * g.kw >= 9 && gpu().info.isSoftware);
}

/** Geometry of dX = conv(dY, flipped Wᵀ, padding K−1−p) for a stride-1 ungrouped convolution. */
function flippedGeom(g: ConvGeom): ConvGeom {
  return { ...g, cin: g.cout, h: g.oh, w: g.ow, oh: g.h, ow: g.w, cout: g.cin, cing: g.cout, coutg: g.cin, ph: g.kh - 1 - g.ph, pw: g.kw - 1 - g.pw };
}

/** [N, P, C] → a fresh [N·P, C] view (the original handle disposed). */
function flatT(t: Tensor): Tensor {
  const v = t.detachedView([t.shape[0] * t.shape[1], t.shape[2]]);
  t.dispose();
  return v;
}

/** im2col of x for geometry g: layout 0 = [N, K, P], 1 = [N·P, K]. */
function im2col(x: Tensor, g: ConvGeom, layout: 0 | 1, kh = g.kh, kw = g.kw): Tensor {
  const K = g.cin * kh * kw;
  const P = g.oh * g.ow;
  const col = out(layout === 0 ? [g.n, K, P] : [g.n * P, K]);
  // runs of outputs per invocation: rows (n, k, oy) in layout 0, (n, p, ci) in layout 1
  const total = layout === 0 ? g.n * K * g.oh : g.n * P * g.cin;
  gpu().dispatch({
    module: im2colKernel('IM2COL'), label: `conv2d_im2col(${layout ? 'rows' : 'cols'})`,
    bindings: [x.slice(OP), col.slice(OP)],
    u: [g.n, g.cin, g.h, g.w, g.oh, g.ow, kh, kw, g.sh, g.sw, g.ph, g.pw, layout, total, g.cout, 0],
    workgroups: grid(total, 64),
  });
  return col;
}

/**
 * Channels per invocation for `c` channels: `max`, 4 or 1, whichever wastes least (padded
 * channels are wasted work; smaller blocks reload inputs more often). Few candidates keep
 * the number of compiled pipelines down.
 */
function blockFor(c: number, max: number): number {
  let best = 1;
  let bestCost = Infinity;
  for (const b of [max, 4, 1]) {
    if (b > max) continue;
    const cost = Math.ceil(c / b) * b * (1 + 1 / b);
    if (cost < bestCost - 1e-9) {
      bestCost = cost;
      best = b;
    }
  }
  return best;
}

/**
 * Output columns per forward invocation: `dflt` or one of convTuning.fwdBpExtra, whichever
 * pads the output row least (ties keep `dflt`). A short candidate list keeps the number of
 * compiled pipelines down; LeNet's rows (OW 28, 14, 10) run 1.2–1.6× faster with 14 / 10
 * columns than with 8 and a padded tail (docs/conv.md).
 */
function columnsFor(ow: number, dflt: number): number {
  let best = dflt;
  for (const bp of convTuning.fwdBpExtra) if (Math.ceil(ow / bp) * bp < Math.ceil(ow / best) * best) best = bp;
  return best;
}

function uGeom(g: ConvGeom): number[] {
  return [g.n, g.cin, g.h, g.w, g.cout, g.oh, g.ow, g.groups, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.cing, g.coutg];
}

function isDepthwise(g: ConvGeom): boolean {
  return convTuning.depthwiseKernels && g.groups === g.cin && g.cing === 1 && g.coutg === 1 && g.kh === g.kw && (g.kh === 3 || g.kh === 5) && g.sh === g.sw && (g.sh === 1 || g.sh === 2);
}

function isPointwise(g: ConvGeom): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0 && g.groups === 1;
}

// ---- launchers (no autograd) --------------------------------------------------------------

/** Forward: y = act(conv(x, w) + b). */
export function conv2dForward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, relu: boolean, label = 'conv2d_forward'): Tensor {
  if (convTuning.matmul1x1 && isPointwise(g) && !b) {
    const x3 = x.detachedView([g.n, g.cin, g.h * g.w]);
    const w2 = w.detachedView([g.cout, g.cin]);
    const y3 = matmulRaw(w2, x3, { relu });
    const y = y3.detachedView([g.n, g.cout, g.oh, g.ow]);
    x3.dispose(); w2.dispose(); y3.dispose();
    return y;
  }
  if (useIm2col(g, 'fwd')) {
    const col = im2col(x, g, 0);
    const w2 = w.detachedView([g.cout, g.cin * g.kh * g.kw]);
    // without a bias the ReLU runs in matmul's epilogue; the conv bias runs along rows (the
    // matmul's along columns), so with one BIASACT adds it and applies the ReLU
    const y3 = matmulRaw(w2, col, { relu: relu && !b });
    col.dispose(); w2.dispose();
    if (b) {
      const total = g.n * g.cout;
      gpu().dispatch({
        module: im2colKernel('BIASACT'), label: 'conv2d_bias_act',
        bindings: [b.slice(OP), y3.slice(OP)],
        u: [g.n, g.cin, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, relu ? 1 : 0, total, g.cout, 0],
        workgroups: grid(total, 64),
      });
    }
    const y = y3.detachedView([g.n, g.cout, g.oh, g.ow]);
    y3.dispose();
    return y;
  }
  const y = out([g.n, g.cout, g.oh, g.ow]);
  // without a bias the weights stand in for the bias binding (P.has_bias = 0: never read)
  const bindings = [x.slice(OP), w.slice(OP), y.slice(OP), (b ?? w).slice(OP)];
  if (isDepthwise(g)) {
    const bp = convTuning.dwBp;
    const owb = Math.ceil(g.ow / bp);
    const [wx, wy] = grid(g.n * g.cin * g.oh * owb, 64);
    gpu().dispatch({
      module: dwKernel('FWD', g.kh, g.sh, bp), label: 'conv2d_dw_forward', bindings,
      u: [g.n, g.cin, g.h, g.w, g.oh, g.ow, g.ph, g.pw, owb, 1, relu ? 1 : 0, b ? 1 : 0],
      workgroups: [wx, wy],
    });
    return y;
  }
  const bm = blockFor(g.coutg, convTuning.fwd.bm);
  const bp = columnsFor(g.ow, convTuning.fwd.bp);
  const owb = Math.ceil(g.ow / bp);
  const npix = g.n * g.oh * owb;
  const cob = Math.ceil(g.coutg / bm);
  const [wx, wy] = grid(npix, 64);
  gpu().dispatch({
    module: fwdKernel(bm, bp, g.kw, g.sw), label: `${label}(${bm}x${bp})`, bindings,
    u: [...uGeom(g), owb, npix, cob, relu ? 1 : 0, b ? 1 : 0, 0, 0, 0],
    workgroups: [wx, wy, g.groups * cob],
  });
  return y;
}

/** Input gradient from the output gradient gy [N, Cout, OH, OW] and the weights. */
export function conv2dInputGrad(gy: Tensor, w: Tensor, g: ConvGeom): Tensor {
  if (convTuning.matmul1x1 && isPointwise(g)) {
    const g3 = gy.detachedView([g.n, g.cout, g.oh * g.ow]);
    const w2 = w.detachedView([g.cout, g.cin]);
    const gx3 = matmulRaw(w2, g3, { transA: true });
    const gx = gx3.detachedView([g.n, g.cin, g.h, g.w]);
    g3.dispose(); w2.dispose(); gx3.dispose();
    return gx;
  }
  if (useIm2col(g, 'dgrad') && g.sh === 1 && g.sw === 1 && g.ph < g.kh && g.pw < g.kw) {
    // stride 1: dX = conv(dY, flipped Wᵀ, padding K−1−p), a lowered forward without col2im
    const col = im2col(gy, flippedGeom(g), 0);
    const wf = flipWeight(w, g, 0);
    const gx3 = matmulRaw(wf, col, { transA: true });
    col.dispose(); wf.dispose();
    const gx = gx3.detachedView([g.n, g.cin, g.h, g.w]);
    gx3.dispose();
    return gx;
  }
  if (useFlippedForward(g)) {
    // stride 1: dX = conv(dY, flipped Wᵀ, padding K−1−p) on the direct forward kernel
    const wf = flipWeight(w, g, 1);
    const gx = conv2dForward(gy, wf, null, flippedGeom(g), false, 'conv2d_input_grad_as_forward');
    wf.dispose();
    return gx;
  }
  if (useIm2col(g, 'dgrad')) {
    const g3 = gy.detachedView([g.n, g.cout, g.oh * g.ow]);
    const w2 = w.detachedView([g.cout, g.cin * g.kh * g.kw]);
    const dcol = matmulRaw(w2, g3, { transA: true });
    g3.dispose(); w2.dispose();
    const gx = out([g.n, g.cin, g.h, g.w]);
    const total = g.n * g.cin * g.h;
    gpu().dispatch({
      module: im2colKernel('COL2IM'), label: 'conv2d_col2im',
      bindings: [dcol.slice(OP), gx.slice(OP)],
      u: [g.n, g.cin, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 0, total, g.cout, 0],
      workgroups: grid(total, 64),
    });
    dcol.dispose();
    return gx;
  }
  const gx = out([g.n, g.cin, g.h, g.w]);
  const bm = g.cing === 1 ? 1 : blockFor(g.cing, convTuning.dgrad.bm);
  const bp = convTuning.dgrad.bp;
  const qbn = Math.ceil(Math.ceil(g.w / g.sw) / bp);
  const npix = g.n * g.h * g.sw * qbn;
  const cib = Math.ceil(g.cing / bm);
  const [wx, wy] = grid(npix, 64);
  gpu().dispatch({
    module: dgradKernel(bm, bp, g.kw, g.sw), label: `conv2d_input_grad(${bm}x${bp})`,
    bindings: [gy.slice(OP), w.slice(OP), gx.slice(OP)],
    u: [...uGeom(g), qbn, npix, cib, 0],
    workgroups: [wx, wy, g.groups * cib],
  });
  return gx;
}

/** The adapter's target for split reductions (convTuning.minWorkgroups / minWorkgroupsHardware). */
function minWorkgroups(): number {
  return gpu().info.isSoftware ? convTuning.minWorkgroups : convTuning.minWorkgroupsHardware;
}

/** Sum `parts` [S, len] over S into a new tensor of `shape` (or reshape when S = 1). */
function reduceSplits(parts: Tensor, splits: number, shape: number[]): Tensor {
  if (splits === 1) {
    const v = parts.detachedView(shape);
    parts.dispose();
    return v;
  }
  const len = parts.size / splits;
  const o = out(shape);
  gpu().dispatch({
    module: reduceKernel(), label: 'conv2d_split_reduce',
    bindings: [parts.slice(OP), o.slice(OP)],
    u: [len, splits, 0, 0],
    workgroups: grid(len, 64),
  });
  parts.dispose();
  return o;
}

/** Weight gradient from the output gradient and the saved input. */
export function conv2dWeightGrad(gy: Tensor, x: Tensor, g: ConvGeom): Tensor {
  const wshape = [g.cout, g.cing, g.kh, g.kw];
  const target = minWorkgroups();
  if (isDepthwise(g)) {
    const bp = convTuning.dwBp;
    const owb = Math.ceil(g.ow / bp);
    const items = g.n * g.oh * owb;
    const splits = Math.max(1, Math.min(Math.ceil(target / g.cin), Math.floor(items / 64)));
    const parts = out([splits, g.cin * g.kh * g.kw]);
    gpu().dispatch({
      module: dwKernel('WGRAD', g.kh, g.sh, bp), label: 'conv2d_dw_weight_grad',
      bindings: [gy.slice(OP), x.slice(OP), parts.slice(OP)],
      u: [g.n, g.cin, g.h, g.w, g.oh, g.ow, g.ph, g.pw, owb, splits, 0, 0],
      workgroups: [splits, g.cin, 1],
    });
    return reduceSplits(parts, splits, wshape);
  }
  if (useIm2col(g, 'wgrad')) {
    // dW [Cout, K] = Σ_{n, p} dY[n, :, p] ⊗ col[n, :, p]: one product reducing over N·P, both
    // operands with the reduction dimension outermost (what 'sg' reads without transposes)
    const colT = im2col(x, g, 1);
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
    const v = dw.detachedView(wshape);
    dw.dispose();
    return v;
  }
  const bm = blockFor(g.coutg, convTuning.wgrad.bm);
  const bq = convTuning.wgrad.bp;
  const nrow = g.cing * g.kh;
  const cob = Math.ceil(g.coutg / bm);
  const wx = Math.ceil(nrow / 64);
  const base = wx * g.groups * cob;
  const rows = g.n * g.oh;
  const splits = Math.max(1, Math.min(Math.ceil(target / base), rows, 65535));
  const parts = out([splits, g.cout * g.cing * g.kh * g.kw]);
  gpu().dispatch({
    module: wgradKernel(bm, bq, g.kw, g.sw), label: `conv2d_weight_grad(${bm}x${bq})`,
    bindings: [gy.slice(OP), x.slice(OP), parts.slice(OP)],
    u: [...uGeom(g), nrow, splits, cob, 0],
    workgroups: [wx, splits, g.groups * cob],
  });
  return reduceSplits(parts, splits, wshape);
}

/**
 * Bias gradient: the output gradient summed over N, OH, OW. On a GPU the batch is split in S
 * parts when there are few channels (LeNet's 6 workgroups left an H100 idle: 0.79 ms → 0); a
 * CPU adapter keeps one workgroup per channel (its few threads are busy, and a split costs a
 * second dispatch).
 */
export function conv2dBiasGrad(gy: Tensor, g: ConvGeom): Tensor {
  const split = convTuning.biasGradSplit === 'auto' ? !gpu().info.isSoftware : convTuning.biasGradSplit;
  const splits = split ? Math.max(1, Math.min(Math.ceil(minWorkgroups() / g.cout), g.n, 65535)) : 1;
  const parts = out([splits, g.cout]);
  gpu().dispatch({
    module: bgradKernel(), label: 'conv2d_bias_grad',
    bindings: [gy.slice(OP), parts.slice(OP)],
    u: [g.n, g.cout, g.oh * g.ow, splits],
    workgroups: [g.cout, splits],
  });
  return reduceSplits(parts, splits, [g.cout]);
}

// ---- the differentiable op ----------------------------------------------------------------

/**
 * 2-D convolution with PyTorch semantics. x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW],
 * optional b [Cout]; returns [N, Cout, OH, OW]. `relu` fuses a ReLU into the epilogue.
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkF32(x, OP, 'input');
  checkF32(w, OP, 'weight');
  if (b) checkF32(b, OP, 'bias');
  const g = conv2dGeometry(x.shape, w.shape, b ? b.shape : null, opts);
  const relu = !!opts.relu;
  const y = conv2dForward(x, w, b ?? null, g, relu);
  // save only what backward will read
  const needX = w.requiresGrad;
  const needW = x.requiresGrad;
  const saved: Tensor[] = [];
  if (needX) saved.push(x);
  if (needW) saved.push(w);
  if (relu) saved.push(y);
  record(OP, b ? [x, w, b] : [x, w], y, saved, (gy, sv) => {
    let k = 0;
    const sx = needX ? sv[k++] : null;
    const sw = needW ? sv[k++] : null;
    const sy = relu ? sv[k++] : null;
    const gz = sy ? reluBackward(gy, sy) : gy;
    const gx = x.requiresGrad && sw ? conv2dInputGrad(gz, sw, g) : null;
    const gw = w.requiresGrad && sx ? conv2dWeightGrad(gz, sx, g) : null;
    const gb = b && b.requiresGrad ? conv2dBiasGrad(gz, g) : null;
    if (gz !== gy) gz.dispose();
    return b ? [gx, gw, gb] : [gx, gw];
  });
  return y;
}
