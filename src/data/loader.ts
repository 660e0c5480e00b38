// Batching on the CPU: seeded shuffling, random crop with zero padding and
// horizontal flip, per-channel normalisation. `Loader.batch(k)` turns batch k of
// an epoch into a Float32Array [B, C, H, W] and an Int32Array [B]; the trainer's
// prefetcher calls it for batch k+1 while the GPU runs step k. Platform-free (see core.ts).
import { Split } from './split.js';
import { DataError } from './errors.js';
import { Sfc32, deriveSeed } from '../util/rng.js';

export interface Normalization {
  mean: number[];
  std: number[];
}

/** Per-channel mean and std of pixel values in [0, 1] (over at most `maxImages` evenly spaced images). */
export function channelStats(split: Split, maxImages = 10000): Normalization {
  // an empty split would give NaN statistics (and a model whose `norm` is [null])
  if (split.n === 0) throw new DataError(split.source, 'no images to compute the normalisation from');
  const { c, h, w } = split;
  const hw = h * w;
  const count = Math.min(split.n, maxImages);
  const stride = split.n / count;
  const buf = new Uint8Array(c * hw);
  const s = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let k = 0; k < count; k++) {
    split.readImage(Math.floor(k * stride), buf, 0);
    for (let ch = 0; ch < c; ch++) {
      let a = 0;
      let b = 0;
      for (let i = ch * hw, e = i + hw; i < e; i++) {
        const v = buf[i];
        a += v;
        b += v * v;
      }
      s[ch] += a;
      s2[ch] += b;
    }
  }
  const n = count * hw;
  const mean: number[] = [];
  const std: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const m = s[ch] / n;
    const v = Math.max(0, s2[ch] / n - m * m);
    mean.push(m / 255);
    std.push(Math.max(1e-6, Math.sqrt(v) / 255));
  }
  return { mean, std };
}

export interface LoaderOptions {
  batchSize: number;
  /** shuffle every epoch (training); off for evaluation */
  shuffle: boolean;
  /** zero padding for random crops; 0 = no crop */
  cropPadding?: number;
  flip?: boolean;
  norm: Normalization;
  /** base seed; epoch e of stage s draws from deriveSeed(seed, s, e) */
  seed?: number;
  /** drop the last partial batch (training) */
  dropLast?: boolean;
}

export interface HostBatch {
  x: Float32Array;
  y: Int32Array;
  /** images in this batch */
  size: number;
  /** dataset indices (for the baseline-logit cache) */
  indices: Int32Array;
}

export class Loader {
  private order: Int32Array;
  private rng: Sfc32;
  private pixels: Uint8Array;
  readonly imageSize: number;
  constructor(
    readonly split: Split,
    readonly opts: LoaderOptions,
  ) {
    this.imageSize = split.c * split.h * split.w;
    this.pixels = new Uint8Array(this.imageSize);
    this.order = identity(split.n);
    this.rng = new Sfc32(opts.seed ?? 0);
  }

  get augmented(): boolean {
    return (this.opts.cropPadding ?? 0) > 0 || !!this.opts.flip;
  }

  get batchCount(): number {
    const { n } = this.split;
    const b = this.opts.batchSize;
    return this.opts.dropLast && n >= b ? Math.floor(n / b) : Math.ceil(n / b);
  }

  /** Start an epoch: a fresh permutation and augmentation stream, both a function of (seed, stage, epoch). */
  startEpoch(stage: number, epoch: number): void {
    this.rng = new Sfc32(deriveSeed(this.opts.seed ?? 0, stage, epoch));
    this.order = this.opts.shuffle ? this.rng.permutation(this.split.n) : identity(this.split.n);
  }

  /** Batch k of the current epoch (call in order: augmentation draws from one stream). */
  batch(k: number): HostBatch {
    const { c, h, w } = this.split;
    const B = this.opts.batchSize;
    const start = k * B;
    const size = Math.min(B, this.split.n - start);
    const x = new Float32Array(size * c * h * w);
    const y = new Int32Array(size);
    const indices = new Int32Array(size);
    const pad = this.opts.cropPadding ?? 0;
    const { mean, std } = this.opts.norm;
    const hw = h * w;
    const px = this.pixels;
    for (let b = 0; b < size; b++) {
      const idx = this.order[start + b];
      indices[b] = idx;
      y[b] = this.split.labels[idx];
      this.split.readImage(idx, px, 0);
      const dy = pad > 0 ? this.rng.int(2 * pad + 1) - pad : 0;
      const dx = pad > 0 ? this.rng.int(2 * pad + 1) - pad : 0;
      const flip = this.opts.flip ? this.rng.next() < 0.5 : false;
      const base = b * c * hw;
      for (let ch = 0; ch < c; ch++) {
        const scale = 1 / (255 * std[ch]);
        const shift = -mean[ch] / std[ch];
        const src = ch * hw;
        const dst = base + ch * hw;
        if (dx === 0 && dy === 0 && !flip) {
          for (let i = 0; i < hw; i++) x[dst + i] = px[src + i] * scale + shift;
          continue;
        }
        for (let r = 0; r < h; r++) {
          const sr = r + dy;
          for (let col = 0; col < w; col++) {
            const oc = flip ? w - 1 - col : col;
            const sc = col + dx;
            const v = sr >= 0 && sr < h && sc >= 0 && sc < w ? px[src + sr * w + sc] : 0;
            x[dst + r * w + oc] = v * scale + shift;
          }
        }
      }
    }
    return { x, y, size, indices };
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
