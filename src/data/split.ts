// A split (train or test) of an image-classification data set: N images of
// C×H×W uint8 pixels (channel-planar) and N integer labels. Images either sit
// in memory (IDX, CIFAR) or are decoded on first use and cached (image folders),
// so decoding happens inside the prefetching batch iterator, overlapped with GPU work.

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
