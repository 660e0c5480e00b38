// Batch normalization (2-D, NCHW), training and eval, with the activation fused into the
// normalize pass. Kernels: kernels/batchnorm.wgsl (its header has the geometry); every pass takes
// the one uniform block BatchNormParams declared here.
//
// Training: chunked per-channel statistics (values shifted by a median of three of the channel's,
// exact two-pass register blocks merged with Chan's formula, then the lane partials merged again),
// running statistics updated in place (momentum, unbiased variance), then one normalize + affine
// (+ ReLU/ReLU6) pass. Backward recomputes x-hat from x and the saved per-channel statistics; with
// a fused activation it masks the gradient by the saved output. Dispatch labels name the path:
// batchnorm_stats(v1|v4), batchnorm_merge(serial|wg), batchnorm_eval_coef,
// batchnorm_normalize(v1|v4|x), batchnorm_grad_partial(v1|v4), batchnorm_grad_merge(serial|wg),
// batchnorm_grad_input(v1|v4|x).

import src from '../../kernels/batchnorm.wgsl';
import { registerKernel, instantiate, paramBlock } from '../gpu/index.js';
import { platform } from '../platform/platform.js';
import { Tensor, full } from '../tensor/index.js';
import { record, needsGrad } from '../autograd/tape.js';
import { checkF32, gpu, grid, out, OpError, shapeStr } from './common.js';
import { checkActivation, type Activation } from './activation.js';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  /** activation fused into the normalize pass (its backward uses the saved output) */
  act?: Activation;
}

const FILE = 'kernels/batchnorm.wgsl';
/** The uniform block of every batchnorm pass (kernels/batchnorm.wgsl's header says what each field is). */
const BatchNormParams = paramBlock('batchnorm', {
  channels: 'u32',
  plane_units: 'u32',
  channel_units: 'u32',
  chunk_units: 'u32',
  chunks: 'u32',
  sample_units: 'u32',
  total_units: 'u32',
  lane_stride: 'u32',
  step_stride: 'u32',
  update_running: 'bool',
  eval_grad: 'bool',
  eps: 'f32',
  momentum: 'f32',
  channel_values: 'f32',
});

function bnKernel(name: string, blocks: string[], subst: Record<string, string> = {}) {
  return registerKernel({ name: `bn:${name}`, code: instantiate(src, blocks, subst), file: FILE, params: BatchNormParams });
}
type BnKernel = ReturnType<typeof bnKernel>;
/** unit width of a pass: f32 or vec4 units within channels; 'x' vec4 units over the flat tensor */
type Width = 'v1' | 'v4';
type ElementwiseWidth = Width | 'x';
type MergeKind = 'serial' | 'wg';
const byWidth = <T>(f: (w: Width) => T): Record<Width, T> => ({ v1: f('v1'), v4: f('v4') });
const byAct = <T>(f: (a: Activation) => T): Record<Activation, T> => ({ none: f('none'), relu: f('relu'), relu6: f('relu6') });
const block = (w: Width) => w.toUpperCase();

// The shared merge entry points (MERGE_SERIAL / MERGE_WG) for each kind of partials.
const MERGE_STATS = { MERGE_T: 'vec3<f32>', COMBINE: 'chan', FINISH: 'finish_stats' };
const MERGE_GRAD = { MERGE_T: 'vec2<f32>', COMBINE: 'add2', FINISH: 'grad_finish' };
// The fused activation in the kernels' own vector type VT (ACT: forward, GZ: the gradient
// masked by the saved output); ACT_WGSL's f32 helper does not cover the vec4 units. NaN propagates
// as in PyTorch: relu(NaN) = relu6(NaN) = NaN, and the gradient passes where the output is NaN
// (threshold_backward / hardtanh_backward zero it only where y <= 0 or y >= 6).
const ACTS: Record<Activation, { fwd: string; gz: string }> = {
  none: { fwd: 'z', gz: 'g[k]' },
  relu: { fwd: 'select(max(z, VT(0.0)), z, is_nan(z))', gz: 'select(VT(0.0), g[k], (ysaved[k] > VT(0.0)) | is_nan(ysaved[k]))' },
  relu6: {
    fwd: 'select(clamp(z, VT(0.0), VT(6.0)), z, is_nan(z))',
    gz: 'select(VT(0.0), g[k], ((ysaved[k] > VT(0.0)) & (ysaved[k] < VT(6.0))) | is_nan(ysaved[k]))',
  },
};
const savedY = (a: Activation) => (a === 'none' ? [] : ['SAVED_Y']);
const K = {
  statsPartial: byWidth((w) => bnKernel(`stats_partial:${w}`, [block(w), 'SHIFT', 'STATS_PARTIAL'])),
  statsMerge: {
    serial: byWidth((w) => bnKernel(`stats_merge_serial:${w}`, [block(w), 'SHIFT', 'STATS_MERGE', 'MERGE_SERIAL'], MERGE_STATS)),
    wg: byWidth((w) => bnKernel(`stats_merge_wg:${w}`, [block(w), 'SHIFT', 'STATS_MERGE', 'MERGE_WG'], MERGE_STATS)),
  },
  evalCoef: bnKernel('eval_coef', ['V1', 'EVAL_COEF']),
  normalize: byAct((a): Record<ElementwiseWidth, BnKernel> => ({
    ...byWidth((w) => bnKernel(`normalize:${a}:${w}`, [block(w), 'ELEMENTWISE', 'NORMALIZE'], { ACT: ACTS[a].fwd })),
    x: bnKernel(`normalize_x:${a}`, ['V4', 'ELEMENTWISE_X', 'NORMALIZE_X'], { ACT: ACTS[a].fwd }),
  })),
  gradPartial: byAct((a) => byWidth((w) => bnKernel(`grad_partial:${a}:${w}`, [block(w), 'GRAD_PARTIAL', ...savedY(a)], { GZ: ACTS[a].gz }))),
  gradMerge: {
    serial: bnKernel('grad_merge_serial', ['V1', 'GRAD_MERGE', 'MERGE_SERIAL'], MERGE_GRAD),
    wg: bnKernel('grad_merge_wg', ['V1', 'GRAD_MERGE', 'MERGE_WG'], MERGE_GRAD),
  },
  gradInput: byAct((a): Record<ElementwiseWidth, BnKernel> => ({
    ...byWidth((w) => bnKernel(`grad_input:${a}:${w}`, [block(w), 'ELEMENTWISE', 'GRAD_INPUT', ...savedY(a)], { GZ: ACTS[a].gz })),
    x: bnKernel(`grad_input_x:${a}`, ['V4', 'ELEMENTWISE_X', 'GRAD_INPUT_X', ...savedY(a)], { GZ: ACTS[a].gz }),
  })),
};

const LANES = 64;
/** units per chunk of the partial passes (one workgroup each) */
const CHUNK = 4096;

interface Geometry {
  N: number;
  C: number;
  /** units per (n, c) plane */
  HW: number;
  /** values per channel, N*H*W */
  count: number;
  /** 4 when H*W % 4 == 0 (vec4 units), else 1 */
  width: 1 | 4;
  /** units per channel, chunk length in units, chunks per channel */
  M: number;
  L: number;
  R: number;
  /** the adapter's layout, read once per op call (the backward reuses the forward's) */
  t: Tuning;
  /** the op's settings (every pass gets them; the statistics passes use them) */
  eps: number;
  momentum: number;
}

function geometry(N: number, C: number, H: number, W: number, eps: number, momentum: number): Geometry {
  const HW = H * W;
  const width: 1 | 4 = HW % 4 === 0 ? 4 : 1;
  const M = (N * HW) / width;
  // Chunks of ~4096 units per workgroup (64 per lane), more of them when there are few channels
  // so that the two CPU threads (or a GPU's many cores) all get work.
  let R = Math.max(1, Math.ceil(M / CHUNK));
  const want = Math.ceil(64 / C);
  if (C * R < 64) R = Math.max(R, Math.min(want, Math.ceil(M / LANES)));
  R = Math.min(R, 65535);
  let L = Math.ceil(M / R);
  L = Math.ceil(L / LANES) * LANES;
  R = Math.ceil(M / L);
  return { N, C, HW: HW / width, count: N * HW, width, M, L, R, t: tuning(), eps, momentum };
}

const widthOf = (g: Geometry): Width => (g.width === 4 ? 'v4' : 'v1');

/**
 * The elementwise passes (normalize, grad_input): vec4 units when H*W % 4 == 0; vec4 units over
 * the flat tensor with per-lane channel mixing ('x') when only N*C*H*W % 4 == 0 (and H*W >= 4);
 * else scalar units. Returns the kernel width and the number of units.
 */
function elementwise(g: Geometry): { width: ElementwiseWidth; units: number } {
  const total = g.N * g.C * g.HW;
  if (g.width === 1 && g.HW >= 4 && total % 4 === 0) return { width: 'x', units: total / 4 };
  return { width: widthOf(g), units: total };
}

/** The uniform block of a pass: the geometry, the op's settings and the pass's switches. */
function params(g: Geometry, o: { totalUnits?: number; updateRunning?: boolean; evalGrad?: boolean } = {}) {
  const S = g.L / LANES;
  const [la, lb] = g.t.interleaved ? [1, LANES] : [S, 1];
  return {
    channels: g.C, plane_units: g.HW, channel_units: g.M, chunk_units: g.L, chunks: g.R, sample_units: g.C * g.HW,
    total_units: o.totalUnits ?? g.N * g.C * g.HW, lane_stride: la, step_stride: lb,
    update_running: !!o.updateRunning, eval_grad: !!o.evalGrad,
    eps: g.eps, momentum: g.momentum, channel_values: g.count,
  };
}

/** An elementwise pass (normalize or grad_input) over the tensor's units, UNITS per invocation. */
function elementwisePass(kernels: Record<ElementwiseWidth, BnKernel>, label: string, g: Geometry, bindings: ReturnType<Tensor['slice']>[]): void {
  const ew = elementwise(g);
  const units = g.t.units;
  gpu().dispatch({
    kernel: kernels[ew.width], label: `${label}(${ew.width})`, constants: { UNITS: units },
    params: params(g, { totalUnits: ew.units }), bindings, workgroups: grid(Math.ceil(ew.units / units), 64),
  });
}

/**
 * Per-adapter layout: on a CPU adapter (lavapipe) each lane walks a contiguous run and each
 * elementwise invocation handles 8 units (fewer loop trips, loads and channel look-ups); on a
 * GPU lanes interleave (coalesced) and elementwise invocations take one unit.
 * FOCUSNET_BN_LAYOUT=gpu or =cpu forces one (read through the platform: none in a page).
 */
interface Tuning {
  interleaved: boolean;
  units: number;
}
function tuning(): Tuning {
  const sw = gpu().info.isSoftware;
  const env = platform().env('FOCUSNET_BN_LAYOUT');
  const interleaved = env ? env === 'gpu' : !sw;
  return { interleaved, units: interleaved ? 1 : 8 };
}

/**
 * How the per-channel partials are merged: one invocation per channel walking them on a CPU
 * adapter (barriers are costly there, and the merge is small), one workgroup per channel with a
 * tree on a GPU (one serial invocation per channel would leave the GPU idle: 0.05-0.16 ms on an
 * H100, as long as the statistics pass itself).
 */
function merge(g: Geometry): { kind: MergeKind; workgroups: [number] } {
  return g.t.interleaved ? { kind: 'wg', workgroups: [g.C] } : { kind: 'serial', workgroups: [Math.ceil(g.C / 64)] };
}

function checkVec(t: Tensor | null | undefined, C: number, arg: string, xs: readonly number[]): void {
  if (t === null || t === undefined) return;
  checkF32(t, 'batchNorm2d', arg);
  if (t.rank !== 1 || t.shape[0] !== C) {
    throw new OpError('batchNorm2d', `'${arg}' must have shape [${C}] for input ${shapeStr(xs)} (C = ${C}), got ${shapeStr(t.shape)}`);
  }
}

/**
 * y = act(gamma * (x - mean) / sqrt(var + eps) + beta) per channel of an NCHW tensor.
 * Training uses the batch statistics (biased variance) and updates `runningMean`/`runningVar`
 * in place (momentum, unbiased variance); eval uses the running statistics. `gamma`/`beta` may
 * be null (affine = false); the running statistics may be null (batch statistics always).
 */
export function batchNorm2d(
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  opts: BatchNormOptions,
): Tensor {
  const op = 'batchNorm2d';
  checkF32(x, op, 'x');
  if (x.rank !== 4) throw new OpError(op, `expects x of rank 4 [N, C, H, W], got ${shapeStr(x.shape)}`);
  const [N, C, H, W] = x.shape;
  checkVec(gamma, C, 'gamma', x.shape);
  checkVec(beta, C, 'beta', x.shape);
  checkVec(runningMean, C, 'runningMean', x.shape);
  checkVec(runningVar, C, 'runningVar', x.shape);
  if ((runningMean === null) !== (runningVar === null)) {
    throw new OpError(op, 'runningMean and runningVar must both be tensors or both be null');
  }
  const o = opts ?? ({} as BatchNormOptions);
  if ((o.momentum as unknown) === null) {
    throw new OpError(op, 'momentum = null (cumulative moving average) is not supported; pass a number in [0, 1]');
  }
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  const act = checkActivation(op, o.act);
  if (!(eps > 0)) throw new OpError(op, `eps must be positive, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new OpError(op, `momentum must be in [0, 1], got ${momentum}`);
  const useBatch = !!o.training || runningMean === null;
  if (useBatch && N * H * W <= 1) {
    throw new OpError(op, `expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`);
  }
  const y = out(x.shape);
  if (x.size === 0) return y;
  const g = geometry(N, C, H, W, eps, momentum);
  const v = widthOf(g);
  const dev = gpu();
  // affine = false: gamma = 1, beta = 0
  const gm = gamma ?? full([C], 1);
  const bt = beta ?? full([C], 0);
  const st = out([C, 8]);
  if (useBatch) {
    const part = out([C * g.R * LANES, 4]);
    dev.dispatch({
      kernel: K.statsPartial[v], label: `batchnorm_stats(${v})`, params: params(g),
      bindings: [x.slice(op), part.slice(op)], workgroups: [g.R, C],
    });
    const updateRunning = !!o.training && runningMean !== null;
    const rm = runningMean ?? full([C], 0);
    const rv = runningVar ?? full([C], 0);
    const m = merge(g);
    dev.dispatch({
      kernel: K.statsMerge[m.kind][v], label: `batchnorm_merge(${m.kind})`, params: params(g, { updateRunning }),
      bindings: [x.slice(op), part.slice(op), gm.slice(op), bt.slice(op), rm.slice(op), rv.slice(op), st.slice(op)],
      workgroups: m.workgroups,
    });
    part.dispose();
    if (!runningMean) {
      rm.dispose();
      rv.dispose();
    }
  } else {
    dev.dispatch({
      kernel: K.evalCoef, label: 'batchnorm_eval_coef', params: params(g),
      bindings: [gm.slice(op), bt.slice(op), runningMean!.slice(op), runningVar!.slice(op), st.slice(op)],
      workgroups: [Math.ceil(C / 64)],
    });
  }
  elementwisePass(K.normalize[act], 'batchnorm_normalize', g, [x.slice(op), st.slice(op), y.slice(op)]);
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  if (needsGrad(...inputs)) {
    const saved = [x, st, gm];
    if (act !== 'none') saved.push(y);
    const evalMode = !useBatch;
    record(op, inputs, y, saved, (gy, [sx, sst, sgm, sy]) =>
      batchNormBackward(gy, sx, sst, sgm, sy ?? null, g, act, evalMode, { x, gamma, beta }),
    );
  }
  if (!gamma) gm.dispose();
  if (!beta) bt.dispose();
  st.dispose();
  return y;
}

function batchNormBackward(
  gy: Tensor,
  x: Tensor,
  st: Tensor,
  gm: Tensor,
  ySaved: Tensor | null,
  g: Geometry,
  act: Activation,
  evalMode: boolean,
  who: { x: Tensor; gamma: Tensor | null; beta: Tensor | null },
): (Tensor | null)[] {
  const op = 'batchNorm2d';
  const dev = gpu();
  const C = g.C;
  const v = widthOf(g);
  const yb = ySaved ? [ySaved.slice(op)] : [];
  const part = out([C * g.R * LANES, 2]);
  dev.dispatch({
    kernel: K.gradPartial[act][v], label: `batchnorm_grad_partial(${v})`, params: params(g),
    bindings: [gy.slice(op), x.slice(op), st.slice(op), part.slice(op), ...yb], workgroups: [g.R, C],
  });
  const co = out([C, 8]);
  const m = merge(g);
  const dgamma = out([C]);
  const dbeta = out([C]);
  dev.dispatch({
    kernel: K.gradMerge[m.kind], label: `batchnorm_grad_merge(${m.kind})`, params: params(g, { evalGrad: evalMode }),
    bindings: [part.slice(op), st.slice(op), gm.slice(op), co.slice(op), dgamma.slice(op), dbeta.slice(op)],
    workgroups: m.workgroups,
  });
  part.dispose();
  let dx: Tensor | null = null;
  if (who.x.requiresGrad) {
    dx = out(x.shape);
    elementwisePass(K.gradInput[act], 'batchnorm_grad_input', g, [gy.slice(op), x.slice(op), co.slice(op), dx.slice(op), ...yb]);
  }
  co.dispose();
  const res: (Tensor | null)[] = [dx];
  if (who.gamma) res.push(who.gamma.requiresGrad ? dgamma : null);
  if (who.beta) res.push(who.beta.requiresGrad ? dbeta : null);
  if (!who.gamma?.requiresGrad) dgamma.dispose();
  if (!who.beta?.requiresGrad) dbeta.dispose();
  return res;
}
