// Batch normalization (2-D, NCHW), training and eval, with the activation fused into the
// normalize pass. Kernels: kernels/batchnorm.wgsl (its header has the geometry).
//
// Training: chunked per-channel statistics (values shifted by a median of three of the channel's, exact
// two-pass register blocks merged with Chan's formula, then the lane partials merged again), running statistics updated in place (momentum, unbiased variance), then one
// normalize + affine (+ ReLU/ReLU6) pass. Backward recomputes x-hat from x and the saved
// per-channel statistics; with a fused activation it masks the gradient by the saved output.

import src from '../../kernels/batchnorm.wgsl';
import { registerKernel } from '../gpu/index.js';
import { instantiate } from '../gpu/index.js';
import { Tensor, full } from '../tensor/index.js';
import { record, needsGrad } from '../autograd/tape.js';
import { checkF32, gpu, grid, out, OpError, shapeStr } from './common.js';

export type BatchNormActivation = 'none' | 'relu' | 'relu6';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  /** activation fused into the normalize pass (its backward uses the saved output) */
  act?: BatchNormActivation;
}

const FILE = 'kernels/batchnorm.wgsl';
// The shared merge entry points (MERGE_SERIAL / MERGE_WG) for each kind of partials.
const MERGE_STATS = { MERGE_T: 'vec3<f32>', COMBINE: 'chan', FINISH: 'finish_stats' };
const MERGE_GRAD = { MERGE_T: 'vec2<f32>', COMBINE: 'add2', FINISH: 'grad_finish' };
const ACTS: Record<BatchNormActivation, { fwd: string; gz: string }> = {
  none: { fwd: 'z', gz: 'g[k]' },
  relu: { fwd: 'max(z, VT(0.0))', gz: 'select(VT(0.0), g[k], ysaved[k] > VT(0.0))' },
  relu6: { fwd: 'clamp(z, VT(0.0), VT(6.0))', gz: 'select(VT(0.0), g[k], (ysaved[k] > VT(0.0)) & (ysaved[k] < VT(6.0)))' },
};
for (const w of ['V1', 'V4']) {
  const v = w.toLowerCase();
  registerKernel(`bn:stats_partial:${v}`, instantiate(src, [w, 'SHIFT', 'STATS_PARTIAL']), FILE);
  for (const m of ['serial', 'wg']) {
    registerKernel(`bn:stats_merge_${m}:${v}`, instantiate(src, [w, 'SHIFT', 'STATS_MERGE', `MERGE_${m.toUpperCase()}`], MERGE_STATS), FILE);
  }
  for (const [name, a] of Object.entries(ACTS)) {
    const yb = name === 'none' ? [] : ['SAVED_Y'];
    registerKernel(`bn:normalize:${name}:${v}`, instantiate(src, [w, 'ELEMENTWISE', 'NORMALIZE'], { ACT: a.fwd }), FILE);
    registerKernel(`bn:grad_partial:${name}:${v}`, instantiate(src, [w, 'GRAD_PARTIAL', ...yb], { GZ: a.gz }), FILE);
    registerKernel(`bn:grad_input:${name}:${v}`, instantiate(src, [w, 'ELEMENTWISE', 'GRAD_INPUT', ...yb], { GZ: a.gz }), FILE);
  }
}
for (const [name, a] of Object.entries(ACTS)) {
  const yb = name === 'none' ? [] : ['SAVED_Y'];
  registerKernel(`bn:normalize_x:${name}`, instantiate(src, ['V4', 'ELEMENTWISE_X', 'NORMALIZE_X'], { ACT: a.fwd }), FILE);
  registerKernel(`bn:grad_input_x:${name}`, instantiate(src, ['V4', 'ELEMENTWISE_X', 'GRAD_INPUT_X', ...yb], { GZ: a.gz }), FILE);
}
registerKernel('bn:eval_coef', instantiate(src, ['V1', 'EVAL_COEF']), FILE);
for (const m of ['serial', 'wg']) {
  registerKernel(`bn:grad_merge_${m}`, instantiate(src, ['V1', 'GRAD_MERGE', `MERGE_${m.toUpperCase()}`], MERGE_GRAD), FILE);
}

const LANES = 64;
/** units per chunk of the partial passes (one workgroup each) */
const CHUNK = 4096;

interface Geometry {
  N: number;
  C: number;
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
}

function geometry(N: number, C: number, H: number, W: number): Geometry {
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
  return { N, C, HW: HW / width, count: N * HW, width, M, L, R, t: tuning() };
}

/**
 * The elementwise passes (normalize, grad_input): vec4 units when H*W % 4 == 0; vec4 units over
 * the flat tensor with per-lane channel mixing when only N*C*H*W % 4 == 0 (and H*W >= 4);
 * else scalar units. Returns the module suffix, the uniforms and the number of units.
 */
function elementwise(g: Geometry): { suffix: string; u: number[]; units: number } {
  const total = g.N * g.C * g.HW;
  if (g.width === 1 && g.HW >= 4 && total % 4 === 0) {
    const u = uniforms(g, 0);
    u[7] = total / 4;
    return { suffix: '_x', u, units: total / 4 };
  }
  return { suffix: '', u: uniforms(g, 0), units: total };
}

function uniforms(g: Geometry, flags: number): number[] {
  const S = g.L / LANES;
  const [la, lb] = g.t.interleaved ? [1, LANES] : [S, 1];
  return [g.C, g.HW, g.M, g.L, g.R, g.C * g.HW, flags, g.N * g.C * g.HW, la, lb, 0, 0];
}

/**
 * Per-adapter layout: on a CPU adapter (lavapipe) each lane walks a contiguous run and each
 * elementwise invocation handles 8 units (fewer loop trips, loads and channel look-ups); on a
 * GPU lanes interleave (coalesced) and elementwise invocations take one unit.
 */
interface Tuning {
  interleaved: boolean;
  units: number;
}
function tuning(): Tuning {
  const sw = gpu().info.isSoftware;
  const env = typeof process !== 'undefined' ? process.env.FOCUSNET_BN_LAYOUT : undefined;
  const interleaved = env ? env === 'gpu' : !sw;
  return { interleaved, units: interleaved ? 1 : 8 };
}

/**
 * How the per-channel partials are merged: one invocation per channel walking them on a CPU
 * adapter (barriers are costly there, and the merge is small), one workgroup per channel with a
 * tree on a GPU (one serial invocation per channel would leave the GPU idle: 0.05-0.16 ms on an
 * H100, as long as the statistics pass itself).
 */
function merge(g: Geometry): { kind: 'serial' | 'wg'; workgroups: [number] } {
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
  const act = o.act ?? 'none';
  if (!(act in ACTS)) throw new OpError(op, `unknown activation '${act}' (use 'none', 'relu' or 'relu6')`);
  if (!(eps > 0)) throw new OpError(op, `eps must be positive, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new OpError(op, `momentum must be in [0, 1], got ${momentum}`);
  const useBatch = !!o.training || runningMean === null;
  if (useBatch && N * H * W <= 1) {
    throw new OpError(op, `expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`);
  }
  const y = out(x.shape);
  if (x.size === 0) return y;
  const g = geometry(N, C, H, W);
  const v = g.width === 4 ? 'v4' : 'v1';
  const dev = gpu();
  // affine = false: gamma = 1, beta = 0
  const gm = gamma ?? full([C], 1);
  const bt = beta ?? full([C], 0);
  const st = out([C, 8]);
  if (useBatch) {
    const part = out([C * g.R * LANES, 4]);
    dev.dispatch({
      module: `bn:stats_partial:${v}`, label: 'batchnorm_stats',
      bindings: [x.slice(op), part.slice(op)],
      u: uniforms(g, 0), f: [eps, momentum, g.count, 0], workgroups: [g.R, C],
    });
    const update = !!o.training && runningMean !== null;
    const rm = runningMean ?? full([C], 0);
    const rv = runningVar ?? full([C], 0);
    const m = merge(g);
    dev.dispatch({
      module: `bn:stats_merge_${m.kind}:${v}`, label: `batchnorm_merge(${m.kind})`,
      bindings: [x.slice(op), part.slice(op), gm.slice(op), bt.slice(op), rm.slice(op), rv.slice(op), st.slice(op)],
      u: uniforms(g, update ? 1 : 0), f: [eps, momentum, g.count, 0], workgroups: m.workgroups,
    });
    part.dispose();
    if (!runningMean) {
      rm.dispose();
      rv.dispose();
    }
  } else {
    dev.dispatch({
      module: 'bn:eval_coef', label: 'batchnorm_eval_coef',
      bindings: [gm.slice(op), bt.slice(op), runningMean!.slice(op), runningVar!.slice(op), st.slice(op)],
      u: uniforms(g, 0), f: [eps, momentum, g.count, 0], workgroups: [Math.ceil(C / 64)],
    });
  }
  const units = g.t.units;
  const ew = elementwise(g);
  dev.dispatch({
    module: ew.suffix ? `bn:normalize_x:${act}` : `bn:normalize:${act}:${v}`, label: 'batchnorm_normalize', constants: { UNITS: units },
    bindings: [x.slice(op), st.slice(op), y.slice(op)],
    u: ew.u, f: [eps, momentum, g.count, 0], workgroups: grid(Math.ceil(ew.units / units), 64),
  });
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
  act: BatchNormActivation,
  evalMode: boolean,
  who: { x: Tensor; gamma: Tensor | null; beta: Tensor | null },
): (Tensor | null)[] {
  const op = 'batchNorm2d';
  const dev = gpu();
  const C = g.C;
  const v = g.width === 4 ? 'v4' : 'v1';
  const yb = ySaved ? [ySaved.slice(op)] : [];
  const part = out([C * g.R * LANES, 2]);
  dev.dispatch({
    module: `bn:grad_partial:${act}:${v}`, label: 'batchnorm_grad_partial',
    bindings: [gy.slice(op), x.slice(op), st.slice(op), part.slice(op), ...yb],
    u: uniforms(g, 0), f: [0, 0, g.count, 0], workgroups: [g.R, C],
  });
  const co = out([C, 8]);
  const m = merge(g);
  const dgamma = out([C]);
  const dbeta = out([C]);
  dev.dispatch({
    module: `bn:grad_merge_${m.kind}`, label: `batchnorm_grad_merge(${m.kind})`,
    bindings: [part.slice(op), st.slice(op), gm.slice(op), co.slice(op), dgamma.slice(op), dbeta.slice(op)],
    u: uniforms(g, evalMode ? 2 : 0), f: [0, 0, g.count, 0], workgroups: m.workgroups,
  });
  part.dispose();
  let dx: Tensor | null = null;
  if (who.x.requiresGrad) {
    dx = out(x.shape);
    const units = g.t.units;
    const ew = elementwise(g);
    dev.dispatch({
      module: ew.suffix ? `bn:grad_input_x:${act}` : `bn:grad_input:${act}:${v}`, label: 'batchnorm_grad_input', constants: { UNITS: units },
      bindings: [gy.slice(op), x.slice(op), co.slice(op), dx.slice(op), ...yb],
      u: ew.u, f: [0, 0, g.count, 0], workgroups: grid(Math.ceil(ew.units / units), 64),
    });
  }
  co.dispose();
  const res: (Tensor | null)[] = [dx];
  if (who.gamma) res.push(who.gamma.requiresGrad ? dgamma : null);
  if (who.beta) res.push(who.beta.requiresGrad ? dbeta : null);
  if (!who.gamma?.requiresGrad) dgamma.dispose();
  if (!who.beta?.requiresGrad) dbeta.dispose();
  return res;
}
