// Image folders: ROOT/train/<class>/*.png|jpg|jpeg and ROOT/val/<class>/... (or test/).
// Classes are the sorted sub-folder names of train/. Images are decoded on first
// use (inside the prefetching iterator) and cached as size×size uint8.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, ioReason } from './errors.js';
import { Split } from './split.js';
import { decodeImage, resizeCenterCrop } from './images.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

export function listClassFolder(dir: string, classes: string[] | null): { files: string[]; labels: number[]; classes: string[] } {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (e) {
    throw new DataError(dir, `cannot read folder (${ioReason(e)})`);
  }
  const subdirs = entries.filter((e) => statSync(join(dir, e)).isDirectory());
  if (subdirs.length === 0) throw new DataError(dir, 'no class sub-folders (expected <split>/<class>/*.png|jpg)');
  const cls = classes ?? subdirs;
  const files: string[] = [];
  const labels: number[] = [];
  for (const d of subdirs) {
    const label = cls.indexOf(d);
    if (label < 0) throw new DataError(join(dir, d), `class '${d}' does not exist in the training split (${cls.length} classes)`);
    const imgs = readdirSync(join(dir, d)).filter((f) => IMAGE_EXT.test(f)).sort();
    for (const f of imgs) {
      files.push(join(dir, d, f));
      labels.push(label);
    }
  }
  if (files.length === 0) throw new DataError(dir, 'no .png/.jpg images in its class sub-folders');
  return { files, labels, classes: cls };
}

export class FolderSplit implements Split {
  readonly labels: Int32Array;
  readonly c = 3;
  private cache: Uint8Array | null;
  private decoded: Uint8Array;
  constructor(
    readonly files: string[],
    labels: number[],
    readonly size: number,
    readonly source: string,
  ) {
    this.labels = Int32Array.from(labels);
    const bytes = files.length * 3 * size * size;
    // cache decoded pixels when they fit comfortably in memory
    this.cache = bytes <= 2 ** 31 ? new Uint8Array(bytes) : null;
    this.decoded = new Uint8Array(files.length);
  }
  get n(): number {
    return this.files.length;
  }
  get h(): number {
    return this.size;
  }
  get w(): number {
    return this.size;
  }
  readImage(i: number, dst: Uint8Array, offset: number): void {
    const sz = 3 * this.size * this.size;
    if (this.cache && this.decoded[i]) {
      dst.set(this.cache.subarray(i * sz, (i + 1) * sz), offset);
      return;
    }
    const img = decodeImage(this.files[i]);
    if (this.cache) {
      resizeCenterCrop(img, this.size, this.cache, i * sz);
      this.decoded[i] = 1;
      dst.set(this.cache.subarray(i * sz, (i + 1) * sz), offset);
    } else resizeCenterCrop(img, this.size, dst, offset);
  }
}
