// Per-adapter policy of the convolution: the tuning knobs (convTuning, docs/conv.md) and the
// rules that pick, for one convolution and direction, the path (1×1 as a matmul, the dedicated
// depthwise kernels, then by `convPath` one of the direct implicit-GEMM kernels (with the
// flipped-forward input gradient), the im2col lowering or a tiled implicit-GEMM
// configuration), the register-block shapes and the split targets of the reductions.
// convPath takes, in order: a path forced in convTuning.path; the autotune table of this
// adapter (tune-table.ts, filled by autotuneConv in tune.ts) for the exact shape, then for
// its bucket; the per-adapter default rule. Nothing here launches a kernel; launch.ts asks
// these rules and runs the path.

import { gpu } from '../common.js';
import { matmulVariant, subgroupMatmulSupported } from '../matmul.js';
import { type ConvGeom, hasFlippedForm, isPointwise } from './geometry.js';
import { TILE_CONFIG_NAMES, type TileConfig, tiledFits } from './tiled.js';
import { tunedConvPath } from './tune-table.js';

export type ConvDirection = 'fwd' | 'dgrad' | 'wgrad';
export const CONV_DIRECTIONS: ConvDirection[] = ['fwd', 'dgrad', 'wgrad'];

/**
 * What runs a convolution direction once the structural rules (1×1 as a matmul, the depthwise
 * kernels) did not apply: the direct register-blocked kernels ('direct', with the
 * flipped-forward input gradient where useFlippedForward says), the im2col lowering onto
 * matmulRaw ('im2col'), or a tile configuration of the tiled implicit GEMM (tiled.ts).
 */
export type ConvPath = 'direct' | 'im2col' | TileConfig;
export const CONV_PATHS: ConvPath[] = ['direct', 'im2col', ...TILE_CONFIG_NAMES];

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
  im2col: { fwd: 'auto', dgrad: 'auto', wgrad: 'auto' } as Record<ConvDirection, boolean | 'auto'>,
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
  /**
   * Force a path per direction ('auto': the autotune table, then the default rule). A forced
   * path that cannot run a shape (im2col of a grouped convolution, a grid over the device's
   * limits) falls back to the 'auto' choice.
   */
  path: { fwd: 'auto', dgrad: 'auto', wgrad: 'auto' } as Record<ConvDirection, ConvPath | 'auto'>,
};

// ---- paths ----------------------------------------------------------------------------------

/** 1×1 stride-1 unpadded ungrouped: run as matmulRaw (convTuning.matmul1x1; the forward also needs no bias). */
export function useMatmul1x1(g: ConvGeom): boolean {
  return convTuning.matmul1x1 && isPointwise(g);
}

/** The dedicated depthwise kernels: groups = Cin = Cout, square 3×3 or 5×5, equal strides 1 or 2. */
export function useDepthwiseKernels(g: ConvGeom): boolean {
  return convTuning.depthwiseKernels && g.groups === g.cin && g.cing === 1 && g.coutg === 1 && g.kh === g.kw && (g.kh === 3 || g.kh === 5) && g.sh === g.sw && (g.sh === 1 || g.sh === 2);
}

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
function im2colAuto(g: ConvGeom, dir: ConvDirection): boolean {
  if (!gpu().info.isSoftware) return dir !== 'dgrad' && g.cout * g.oh * g.ow * g.cin * g.kh * g.kw >= 2 ** 21;
  if (!subgroupMatmulSupported()) return false;
  return matmulVariant(g.cout, g.oh * g.ow, g.cin * g.kh * g.kw) === 'sg';
}

/** Whether the im2col lowering can run this direction (groups 1, not 1×1 or depthwise, the buffer fits). */
function im2colApplies(g: ConvGeom, dir: ConvDirection): boolean {
  if (g.groups !== 1 || isPointwise(g) || useDepthwiseKernels(g)) return false;
  // the input gradient's col buffer (of dY over the input's pixels) may be the larger one
  const bytes = 4 * g.n * g.kh * g.kw * Math.max(g.cin * g.oh * g.ow, dir === 'dgrad' ? g.cout * g.h * g.w : 0);
  const lim = gpu().limits;
  return bytes <= Math.min(convTuning.im2colMaxBytes, lim.maxStorageBufferBindingSize, lim.maxBufferSize);
}

/** The paths that can run this direction of `g` here (convTuning.im2col = false removes the lowering). */
export function candidatePaths(g: ConvGeom, dir: ConvDirection): ConvPath[] {
  const paths: ConvPath[] = ['direct'];
  if (convTuning.im2col[dir] !== false && im2colApplies(g, dir)) paths.push('im2col');
  for (const c of TILE_CONFIG_NAMES) if (tiledFits(g, dir, c)) paths.push(c);
  return paths;
}

/** The per-adapter default when nothing is forced and no tuning applies (measured: im2colAuto). */
export function defaultConvPath(g: ConvGeom, dir: ConvDirection): ConvPath {
  const mode = convTuning.im2col[dir];
  if (mode !== false && im2colApplies(g, dir) && (mode === true || im2colAuto(g, dir))) return 'im2col';
  return 'direct';
}

/**
 * The path that runs this direction of `g` (after the structural 1×1 and depthwise rules):
 * convTuning.path if forced and possible; convTuning.im2col = true (the older knob); the
 * autotune table (exact shape, then bucket), restricted to the paths possible here; the default.
 */
export function convPath(g: ConvGeom, dir: ConvDirection): ConvPath {
  const forced = convTuning.path[dir];
  const cands = candidatePaths(g, dir);
  if (forced !== 'auto' && cands.includes(forced)) return forced;
  if (convTuning.im2col[dir] === true && cands.includes('im2col')) return 'im2col';
  const tuned = tunedConvPath(g, dir);
  if (tuned && cands.includes(tuned)) return tuned;
  return defaultConvPath(g, dir);
}

/** Lower this direction to matmulRaw through an im2col buffer (convPath chose 'im2col'). */
export function useIm2col(g: ConvGeom, dir: ConvDirection): boolean {
  return convPath(g, dir) === 'im2col';
}

/** Stride-1 dense input gradient (not lowered) as the direct forward of dY with flipped weights (convTuning.dgradAsForward). */
export function useFlippedForward(g: ConvGeom): boolean {
  const mode = convTuning.dgradAsForward;
  if (mode === false || !hasFlippedForm(g) || isPointwise(g)) return false;
  // 'auto': software adapters only (on an H200 the plain input-gradient kernel was 3.5× faster)
  return mode === true || (g.kh * g.kw >= 9 && gpu().info.isSoftware);
}

// ---- reductions -----------------------------------------------------------------------------

/** The adapter's target for split reductions (convTuning.minWorkgroups / minWorkgroupsHardware). */
export function minWorkgroups(): number {
  return gpu().info.isSoftware ? convTuning.minWorkgroups : convTuning.minWorkgroupsHardware;
}

/**
 * Batch splits of the bias gradient: on a GPU the batch is split in S parts when there are few
 * channels (LeNet's 6 workgroups left an H100 idle: 0.79 ms → 0); a CPU adapter keeps one
 * workgroup per channel (its few threads are busy, and a split costs a second dispatch).
 */
export function biasGradSplits(g: ConvGeom): number {
  const split = convTuning.biasGradSplit === 'auto' ? !gpu().info.isSoftware : convTuning.biasGradSplit;
  return split ? Math.max(1, Math.min(Math.ceil(minWorkgroups() / g.cout), g.n, 65535)) : 1;
}

// ---- register blocks ------------------------------------------------------------------------

/**
 * Channels per invocation for `c` channels: `max`, 4 or 1, whichever wastes least (padded
 * channels are wasted work; smaller blocks reload inputs more often). Few candidates keep
 * the number of compiled pipelines down.
 */
export function blockFor(c: number, max: number): number {
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
export function columnsFor(ow: number, dflt: number): number {
  let best = dflt;
  for (const bp of convTuning.fwdBpExtra) if (Math.ceil(ow / bp) * bp < Math.ceil(ow / best) * best) best = bp;
  return best;
}
