// Class activation maps on the GPU (kernels/cam.wgsl).
//
// CAM (networks ending in global average pooling + linear): the map of class k is
// ReLU(Σ_c W_fc[k, c] · F_c), F the last feature maps. Grad-CAM (any network): the
// channel weights are the spatial mean of ∂z_k/∂F, taken through the autodiff, and the
// map is ReLU(Σ_c w_kc · F_c). Both maps are upsampled bilinearly (align_corners =
// false) to the input's size.

import src from '../../kernels/cam.wgsl';
import { registerKernel, instantiate, paramBlock, gpu, grid } from '../gpu/index.js';
import { OpError } from '../errors.js';
import { Tensor, tensor, empty, shapeStr, scope } from '../tensor/index.js';
import { noGrad } from '../autograd/tape.js';
import type { FeatureSplit } from '../models/registry.js';
import * as ops from '../ops/index.js';

const FILE = 'kernels/cam.wgsl';
/** WSUM: K maps from C channels of S = h·w positions, ReLU'd or not. */
const WsumParams = paramBlock('cam.wsum', { map_count: 'u32', channels: 'u32', positions: 'u32', relu: 'bool' });
/** GRADW: K·C channel weights, each the mean of S = h·w gradient values. */
const GradwParams = paramBlock('cam.gradw', { map_count: 'u32', channels: 'u32', positions: 'u32' });
/** UPSAMPLE: K maps [h, w] → [H, W]. */
const UpsampleParams = paramBlock('cam.upsample', { map_count: 'u32', in_height: 'u32', in_width: 'u32', out_height: 'u32', out_width: 'u32' });
const K_WSUM = registerKernel({ name: 'cam:wsum', code: instantiate(src, 'WSUM'), file: FILE, params: WsumParams });
const K_GRADW = registerKernel({ name: 'cam:gradw', code: instantiate(src, 'GRADW'), file: FILE, params: GradwParams });
const K_UPSAMPLE = registerKernel({ name: 'cam:upsample', code: instantiate(src, 'UPSAMPLE'), file: FILE, params: UpsampleParams });

const WG = 64;

function featureDims(op: string, features: Tensor): [number, number, number] {
  const s = features.shape;
  if (s.length === 4 && s[0] === 1) return [s[1], s[2], s[3]];
  if (s.length === 3) return [s[0], s[1], s[2]];
  throw new OpError(op, `feature maps must be [1, C, h, w] or [C, h, w], got ${shapeStr(s)}`);
}

/** maps[k] = act(Σ_c weights[k, c] · features[c]) for one image's features [1|-, C, h, w] and weights [K, C] → [K, h, w]. */
export function weightedChannelSum(features: Tensor, weights: Tensor, opts: { relu?: boolean } = {}): Tensor {
  const op = 'weightedChannelSum';
  const [C, h, w] = featureDims(op, features);
  if (weights.rank !== 2 || weights.shape[1] !== C) {
    throw new OpError(op, `weights must be [K, ${C}] for features ${shapeStr(features.shape)}, got ${shapeStr(weights.shape)}`);
  }
  const K = weights.shape[0];
  const maps = empty([K, h, w]);
  gpu().dispatch({
    kernel: K_WSUM, label: 'cam_weighted_sum',
    params: { map_count: K, channels: C, positions: h * w, relu: opts.relu !== false },
    bindings: [features.slice(op), weights.slice(op), maps.slice(op)],
    workgroups: grid(K * h * w, WG),
  });
  return maps;
}

/** Grad-CAM channel weights: the spatial mean of gradients [K, C, h, w] → [K, C]. */
export function gradChannelWeights(grads: Tensor): Tensor {
  const op = 'gradChannelWeights';
  if (grads.rank !== 4) throw new OpError(op, `gradients must be [K, C, h, w], got ${shapeStr(grads.shape)}`);
  const [K, C, h, w] = grads.shape;
  const out = empty([K, C]);
  gpu().dispatch({
    kernel: K_GRADW, label: 'cam_grad_weights',
    params: { map_count: K, channels: C, positions: h * w },
    bindings: [grads.slice(op), out.slice(op)],
    workgroups: grid(K * C, WG),
  });
  return out;
}

/** Bilinear resize (align_corners = false, as PyTorch) of maps [K, h, w] (or [h, w]) to [K, H, W]. */
export function upsampleBilinear(maps: Tensor, H: number, W: number): Tensor {
  const op = 'upsampleBilinear';
  const s = maps.shape;
  if (s.length !== 2 && s.length !== 3) throw new OpError(op, `maps must be [K, h, w] or [h, w], got ${shapeStr(s)}`);
  if (!Number.isInteger(H) || !Number.isInteger(W) || H <= 0 || W <= 0) throw new OpError(op, `output size must be positive integers, got ${H}×${W}`);
  const [K, h, w] = s.length === 3 ? s : [1, s[0], s[1]];
  if (h === 0 || w === 0) throw new OpError(op, `empty input maps ${shapeStr(s)}`);
  const out = empty([K, H, W]);
  gpu().dispatch({
    kernel: K_UPSAMPLE, label: 'cam_upsample',
    params: { map_count: K, in_height: h, in_width: w, out_height: H, out_width: W },
    bindings: [maps.slice(op), out.slice(op)],
    workgroups: grid(K * H * W, WG),
  });
  return out;
}

/** A network split at its last feature maps (the registry's splitModel makes them). */
export type { FeatureSplit };

export interface CamResult {
  /** 'cam' (fc weights) or 'gradcam' (gradients) */
  method: 'cam' | 'gradcam';
  /** logits of the image [N] */
  logits: Float32Array;
  /** softmax of the logits [N] */
  probs: Float32Array;
  /** one upsampled map per requested class, each H·W, row-major, ReLU'd (not normalized) */
  maps: Float32Array[];
  /** size of the low-resolution maps [h, w] */
  featureSize: [number, number];
}

export function softmaxCpu(z: ArrayLike<number>): Float32Array {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  let s = 0;
  const p = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) s += p[i] = Math.exp(z[i] - m);
  for (let i = 0; i < z.length; i++) p[i] /= s;
  return p;
}

/**
 * Class activation maps of `classes` for one image x [1, Cin, H, W]. Uses CAM when the
 * split exposes `fcWeight` (and `method` is not 'gradcam'), Grad-CAM otherwise.
 */
export async function classActivationMaps(
  net: FeatureSplit,
  x: Tensor,
  classes: number[],
  opts: { method?: 'cam' | 'gradcam'; size?: [number, number] } = {},
): Promise<CamResult> {
  if (x.rank !== 4 || x.shape[0] !== 1) throw new OpError('cam', `input must be one image [1, C, H, W], got ${shapeStr(x.shape)}`);
  if (classes.length === 0) throw new OpError('cam', 'no classes requested');
  const [H, W] = opts.size ?? [x.shape[2], x.shape[3]];
  const method = opts.method ?? (net.fcWeight ? 'cam' : 'gradcam');
  const K = classes.length;
  const feats = noGrad(() => net.features(x));
  try {
    if (feats.rank !== 4 || feats.shape[0] !== 1) throw new OpError('cam', `feature maps must be [1, C, h, w], got ${shapeStr(feats.shape)}`);
    const [, C, h, w] = feats.shape;
    let logitsT: Tensor;
    let up: Tensor;
    if (method === 'cam') {
      const fc = net.fcWeight;
      if (!fc) throw new OpError('cam', 'CAM needs the final linear layer (global average pooling + linear); use Grad-CAM');
      if (fc.rank !== 2 || fc.shape[1] !== C) throw new OpError('cam', `fc weight ${shapeStr(fc.shape)} does not match ${C} feature channels`);
      const N = fc.shape[0];
      for (const k of classes) if (!(k >= 0 && k < N)) throw new OpError('cam', `class ${k} is out of range for ${N} classes`);
      const fcW = (await fc.read()) as Float32Array;
      const wsel = new Float32Array(K * C);
      classes.forEach((k, i) => wsel.set(fcW.subarray(k * C, (k + 1) * C), i * C));
      [logitsT, up] = scope(() =>
        noGrad(() => {
          const logits = net.head(feats);
          const wt = tensor(wsel, [K, C]);
          const maps = weightedChannelSum(feats, wt);
          return [logits, upsampleBilinear(maps, H, W)];
        }),
      ) as [Tensor, Tensor];
    } else {
      // Grad-CAM: replicate the features K times as a leaf, run the head once on the batch,
      // and backpropagate Σ_k z[k, class_k]: row k of the gradient is ∂z_{class_k}/∂F.
      [logitsT, up] = scope(() => {
        const leaf = noGrad(() => ops.mul(feats, ops.fill([K, 1, 1, 1], 1)));
        leaf.requiresGrad = true;
        const z = net.head(leaf);
        if (z.rank !== 2 || z.shape[0] !== K) throw new OpError('cam', `head must return logits [${K}, N], got ${shapeStr(z.shape)}`);
        const N = z.shape[1];
        for (const k of classes) if (!(k >= 0 && k < N)) throw new OpError('cam', `class ${k} is out of range for ${N} classes`);
        const sel = new Float32Array(K * N);
        classes.forEach((k, i) => (sel[i * N + k] = 1));
        const target = ops.sum(ops.mul(z, tensor(sel, [K, N])));
        target.backward();
        const g = leaf.grad;
        if (!g) throw new OpError('cam', 'no gradient reached the feature maps');
        const logits = noGrad(() => ops.reshape(ops.copy(ops.reshape(z, [K * N])), [K, N]));
        const wt = gradChannelWeights(g.detachedView([K, C, h, w]));
        const maps = weightedChannelSum(feats, wt);
        const res = [logits, upsampleBilinear(maps, H, W)];
        leaf.dispose();
        return res;
      }) as [Tensor, Tensor];
    }
    // both readbacks in flight at once (one submit, one wait)
    const [all, flat] = (await Promise.all([logitsT.read(), up.read()])) as [Float32Array, Float32Array];
    const N = logitsT.shape[logitsT.rank - 1];
    const logits = all.slice(0, N);
    logitsT.dispose();
    up.dispose();
    const maps: Float32Array[] = [];
    for (let i = 0; i < K; i++) maps.push(flat.slice(i * H * W, (i + 1) * H * W));
    return { method, logits, probs: softmaxCpu(logits), maps, featureSize: [h, w] };
  } finally {
    feats.dispose();
  }
}
