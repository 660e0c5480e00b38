// The workgroup-tiled implicit-GEMM convolution (kernels/conv2d_tiled.wgsl): one tile loop
// shared by forward, input gradient and weight gradient, each direction supplying its address
// functions (forward and input gradient first reorder the small weight tensor so their A
// operand is contiguous along K: kernels/conv2d_reorder.wgsl, labelled `…:weights`). Tile configurations (TILE_CONFIGS) are the variants the policy and the autotune
// choose among (policy.ts, tune.ts); this file only declares the parameter block, registers the
// pipelines on first use and launches them. Tile geometry: the kernel's header; docs/conv.md.

import src from '../../../kernels/conv2d_tiled.wgsl';
import reorderSrc from '../../../kernels/conv2d_reorder.wgsl';
import { paramBlock } from '../../gpu/index.js';
import type { Tensor } from '../../tensor/index.js';
import { out, gpu, grid } from '../common.js';
import { ACT_CODE, type Activation } from '../activation.js';
import { OP, type ConvGeom } from './geometry.js';
import { minWorkgroups } from './policy.js';
import { reduceSplits } from './direct.js';
import { type Elem, operandElem } from '../precision.js';
import { variant } from './variants.js';

const FILE = 'kernels/conv2d_tiled.wgsl';

/** One tile configuration: output tile TM × TN, K step TK, RM × RN outputs per invocation. */
export interface TileShape { tm: number; tn: number; tk: number; rm: number; rn: number }

/**
 * The tiled variants: 'tiled' (64×64 tile, 4×4 per invocation, 256 invocations) and
 * 'tiled-wide' (128×128, 8×8 per invocation, 256 invocations: the classic SIMT GEMM shape,
 * for large layers). Both stage K in steps of 8 (16·8·(TM/4 + TN/4 + 2) bytes of workgroup memory).
 */
export const TILE_CONFIGS = {
  tiled: { tm: 64, tn: 64, tk: 8, rm: 4, rn: 4 },
  'tiled-wide': { tm: 128, tn: 128, tk: 8, rm: 8, rn: 8 },
} as const satisfies Record<string, TileShape>;
export type TileConfig = keyof typeof TILE_CONFIGS;
export const TILE_CONFIG_NAMES = Object.keys(TILE_CONFIGS) as TileConfig[];

/** kernels/conv2d_tiled.wgsl, every direction (fields a direction does not read are 0). */
const ConvTiledParams = paramBlock('conv2d.tiled', {
  n: 'u32', cin: 'u32', h: 'u32', w: 'u32', cout: 'u32', oh: 'u32', ow: 'u32', groups: 'u32',
  kh: 'u32', kw: 'u32', sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', cing: 'u32', coutg: 'u32',
  gm: 'u32', gn: 'u32', gk: 'u32', gx: 'u32', mtiles: 'u32', parts: 'u32', kchunk: 'u32',
  qh: 'u32', qw: 'u32', fast: 'bool', act: 'u32', has_bias: 'bool',
});

/** kernels/conv2d_reorder.wgsl: W [cout, cing, taps] → Wf [cout, taps, cing] or (dgrad) Wd [groups, cing, taps, coutg] */
const WeightReorderParams = paramBlock('conv2d.tiled_reorder', { cout: 'u32', cing: 'u32', taps: 'u32', coutg: 'u32', dgrad: 'bool', elements: 'u32' });
const reorderKernel = (elem: Elem) => variant('conv2d:tiled:reorder', reorderSrc, 'kernels/conv2d_reorder.wgsl', [], {}, WeightReorderParams, elem);

type Dir = 'FWD' | 'DGRAD' | 'WGRAD';
const kernel = (dir: Dir, cfg: TileConfig, elem: Elem) => {
  const t: TileShape = TILE_CONFIGS[cfg];
  return variant(`conv2d:tiled:${dir}:${t.tm}x${t.tn}x${t.tk}:${t.rm}x${t.rn}`, src, FILE, ['CORE', dir],
    { TM_VALUE: t.tm, TN_VALUE: t.tn, TK_VALUE: t.tk, RM_VALUE: t.rm, RN_VALUE: t.rn }, ConvTiledParams, elem);
};
const tag = (cfg: TileConfig) => {
  const t = TILE_CONFIGS[cfg];
  return `${t.tm}x${t.tn}x${t.tk}`;
};

/** The GEMM of one direction per group, and how its workgroups are laid out. */
interface Gemm { gm: number; gn: number; gk: number; parts: number; kchunk: number; qh: number; qw: number; fast: boolean }

function gemmOf(g: ConvGeom, dir: Dir, cfg: TileConfig): Gemm {
  const tk = TILE_CONFIGS[cfg].tk;
  const base = { parts: 1, kchunk: 0, qh: 0, qw: 0 };
  if (dir === 'FWD') {
    return { ...base, gm: g.coutg, gn: g.n * g.oh * g.ow, gk: g.cing * g.kh * g.kw, fast: g.cing % tk === 0 };
  }
  if (dir === 'DGRAD') {
    const qh = Math.ceil(g.h / g.sh), qw = Math.ceil(g.w / g.sw);
    // K is per residue (taps that reach an output pixel); gk is the largest, for the checks
    return { ...base, gm: g.cing, gn: g.n * qh * qw, gk: Math.ceil(g.kh / g.sh) * Math.ceil(g.kw / g.sw) * g.coutg, parts: g.sh * g.sw, qh, qw, fast: g.coutg % tk === 0 };
  }
  const t = TILE_CONFIGS[cfg];
  const gm = g.coutg, gn = g.cing * g.kh * g.kw, gk = g.n * g.oh * g.ow;
  // split-K until the dispatch reaches the adapter's workgroup target, keeping >= 32 K steps per part
  const tiles = Math.ceil(gm / t.tm) * Math.ceil(gn / t.tn) * g.groups;
  const maxParts = Math.max(1, Math.floor(gk / (32 * tk)));
  const parts = Math.max(1, Math.min(Math.ceil(minWorkgroups() / tiles), maxParts, 4096));
  const kchunk = Math.ceil(Math.ceil(gk / parts) / tk) * tk;
  return { ...base, gm, gn, gk, parts: Math.ceil(gk / kchunk), kchunk, fast: false };
}

/** The dispatch grid of a direction, or null when it exceeds the device's per-dimension limit. */
function gridOf(g: ConvGeom, gm: Gemm, cfg: TileConfig): { gx: number; mtiles: number; workgroups: [number, number, number] } | null {
  const t = TILE_CONFIGS[cfg];
  const lim = gpu().limits.maxComputeWorkgroupsPerDimension;
  const mtiles = Math.ceil(gm.gm / t.tm);
  const z = g.groups * gm.parts * mtiles;
  const [wx, wy] = grid(Math.ceil(gm.gn / t.tn), 1);
  if (z > lim || wy > lim) return null;
  return { gx: wx, mtiles, workgroups: [wx, wy, z] };
}

const DIR_OF = { fwd: 'FWD', dgrad: 'DGRAD', wgrad: 'WGRAD' } as const;

/** Whether the tiled kernels can run this direction here (workgroup size, memory and grid limits). */
export function tiledFits(g: ConvGeom, dir: 'fwd' | 'dgrad' | 'wgrad', cfg: TileConfig): boolean {
  const t = TILE_CONFIGS[cfg];
  const lim = gpu().limits;
  if ((t.tm / t.rm) * (t.tn / t.rn) > lim.maxComputeInvocationsPerWorkgroup) return false;
  if (16 * t.tk * (t.tm / 4 + t.tn / 4 + 2) > lim.maxComputeWorkgroupStorageSize) return false;
  const gm = gemmOf(g, DIR_OF[dir], cfg);
  return gridOf(g, gm, cfg) !== null;
}

function dispatch(g: ConvGeom, dir: Dir, cfg: TileConfig, elem: Elem, label: string, bindings: ReturnType<Tensor['slice']>[], extra: { act?: Activation; hasBias?: boolean } = {}): Gemm {
  const gm = gemmOf(g, dir, cfg);
  const gr = gridOf(g, gm, cfg);
  if (!gr) throw new Error(`${label}: dispatch grid exceeds the device limit (policy.tiledFits should have refused it)`);
  gpu().dispatch({
    kernel: kernel(dir, cfg, elem), label: `${label}(${tag(cfg)}${elem === 'f16' ? ',f16' : ''})`,
    bindings,
    params: {
      n: g.n, cin: g.cin, h: g.h, w: g.w, cout: g.cout, oh: g.oh, ow: g.ow, groups: g.groups,
      kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw, cing: g.cing, coutg: g.coutg,
      gm: gm.gm, gn: gm.gn, gk: gm.gk, gx: gr.gx, mtiles: gr.mtiles, parts: gm.parts, kchunk: gm.kchunk,
      qh: gm.qh, qw: gm.qw, fast: gm.fast, act: ACT_CODE[extra.act ?? 'none'], has_bias: !!extra.hasBias,
    },
    workgroups: gr.workgroups,
  });
  return gm;
}

/** The weights in the layout a direction's A operand reads contiguously along K (see the kernel's header). */
function reorderWeights(w: Tensor, g: ConvGeom, dgrad: boolean, label: string): Tensor {
  const elem = w.dtype as Elem;
  const wr = out([w.size], elem);
  gpu().dispatch({
    kernel: reorderKernel(elem), label: elem === 'f16' ? `${label}(f16)` : label,
    bindings: [w.slice(OP), wr.slice(OP)],
    params: { cout: g.cout, cing: g.cing, taps: g.kh * g.kw, coutg: g.coutg, dgrad, elements: w.size },
    workgroups: grid(w.size, 64),
  });
  return wr;
}

/** Forward on the tiled kernel: y = act(conv(x, w) + b), bias and activation in the epilogue. */
export function tiledForward(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: Activation, cfg: TileConfig): Tensor {
  const y = out([g.n, g.cout, g.oh, g.ow]);
  const wf = reorderWeights(w, g, false, 'conv2d_tiled_forward:weights');
  dispatch(g, 'FWD', cfg, operandElem(OP, { x, w }), 'conv2d_tiled_forward', [x.slice(OP), wf.slice(OP), y.slice(OP), b ? b.slice(OP) : gpu().placeholder()], { act, hasBias: !!b });
  wf.dispose();
  return y;
}

/** Input gradient on the tiled kernel, one residue class of the stride per workgroup layer. */
export function tiledInputGrad(gy: Tensor, w: Tensor, g: ConvGeom, cfg: TileConfig): Tensor {
  const gx = out([g.n, g.cin, g.h, g.w]);
  const wd = reorderWeights(w, g, true, 'conv2d_tiled_input_grad:weights');
  dispatch(g, 'DGRAD', cfg, operandElem(OP, { gy, w }), 'conv2d_tiled_input_grad', [gy.slice(OP), wd.slice(OP), gx.slice(OP)]);
  wd.dispose();
  return gx;
}

/** Weight gradient on the tiled kernel, split-K over N·OH·OW to fill the adapter, parts summed by REDUCE. */
export function tiledWeightGrad(gy: Tensor, x: Tensor, g: ConvGeom, cfg: TileConfig): Tensor {
  const gm = gemmOf(g, 'WGRAD', cfg);
  const parts = out([gm.parts, g.cout * g.cing * g.kh * g.kw]);
  dispatch(g, 'WGRAD', cfg, operandElem(OP, { gy, x }), 'conv2d_tiled_weight_grad', [gy.slice(OP), x.slice(OP), parts.slice(OP)]);
  return reduceSplits(parts, gm.parts, [g.cout, g.cing, g.kh, g.kw]);
}
