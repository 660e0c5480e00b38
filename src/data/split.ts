// A split (train or test) of an image-classification data set: N images of
// C×H×W uint8 pixels (channel-planar) and N integer labels. Images either sit
// in memory (IDX, CIFAR) or are decoded on first use and cached (image folders),
// so decoding happens inside the prefetching batch iterator, overlapped with GPU work.
// Platform-free (see core.ts).
import { DataError } from './errors.js';

export interface Split {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly labels: Int32Array;
  /** copy image i (C×H×W uint8) into dst at offset */
  readImage(i: number, dst: Uint8Array, offset: number): void;
  /** where the images come from, for messages */
  readonly source: string;
}

/** A split whose pixels are one contiguous N×C×H×W uint8 array. */
export class MemorySplit implements Split {
  constructor(
    readonly images: Uint8Array,
    readonly labels: Int32Array,
    readonly c: number,
    readonly h: number,
    readonly w: number,
    readonly source: string,
  ) {}
  get n(): number {
    return this.labels.length;
  }
  readImage(i: number, dst: Uint8Array, offset: number): void {
    const sz = this.c * this.h * this.w;
    dst.set(this.images.subarray(i * sz, (i + 1) * sz), offset);
  }
}

/** The first `count` images of a split (quick runs, tests). */
export class SubsetSplit implements Split {
  constructor(
    private readonly base: Split,
    private readonly count: number,
  ) {
    this.labels = base.labels.subarray(0, count);
  }
  readonly labels: Int32Array;
  get n(): number {
    return this.count;
  }
  get c(): number {
    return this.base.c;
  }
  get h(): number {
    return this.base.h;
  }
  get w(): number {
    return this.base.w;
  }
  get source(): string {
    return this.base.source;
  }
  readImage(i: number, dst: Uint8Array, offset: number): void {
    this.base.readImage(i, dst, offset);
  }
}

/**
 * Throw a DataError naming the split and the first label outside [0, numClasses).
 * Host side, one pass over the labels: a trainer calls it once per data set, so a bad
 * label is reported at load instead of surfacing as a NaN loss in the middle of training.
 */
export function checkSplitLabels(split: Split, numClasses: number, what: string): void {
  const y = split.labels;
  if (y.length < split.n) throw new DataError(split.source, `${what}: ${split.n} images but only ${y.length} labels`);
  for (let i = 0; i < split.n; i++) {
    const l = y[i];
    if (l < 0 || l >= numClasses) {
      throw new DataError(split.source, `${what}: label ${l} of image ${i} is out of range for ${numClasses} classes (labels must be class indices in [0, ${numClasses}))`);
    }
  }
}
