// File access (see files.ts): image folders, ROOT/train/<class>/*.png|jpg|jpeg and
// ROOT/val/<class>/... (or test/). Classes are the sorted sub-folder names of train/.
// Listing checks every entry (a broken symbolic link, a FIFO or an unreadable file is a
// DataError naming it, found before anything trains). Images are decoded on first use
// (inside the prefetching iterator), checked against the image limits before decoding,
// and cached as size×size uint8; the cache of one split is capped (maxSplitBytes).
import { hostFiles, join, type FileStat, type FolderEntry } from '../../platform/files.js';
import { DataError, formatBytes } from '../errors.js';
import { Split } from '../split.js';
import { resizeCenterCrop } from '../resize.js';
import { DEFAULT_IMAGE_LIMITS, ImageLimits } from '../image-header.js';
import { DEFAULT_MAX_SPLIT_BYTES } from '../assemble.js';
import { decodeImage } from './decode.js';
import { ioReason } from './files.js';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

function entries(dir: string): FolderEntry[] {
  const fs = hostFiles('data.loadDataset');
  try {
    return fs.list(dir);
  } catch (e) {
    throw new DataError(dir, `cannot read folder (${ioReason(e)})`);
  }
}

/** stat() an entry, following a symbolic link; a broken link or unreadable entry is a DataError naming it. */
function statEntry(path: string): FileStat {
  const fs = hostFiles('data.loadDataset');
  try {
    return fs.stat(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new DataError(path, code === 'ENOENT' ? 'broken symbolic link (its target does not exist)' : `cannot read (${ioReason(e)})`);
  }
}

export function listClassFolder(dir: string, classes: string[] | null): { files: string[]; labels: number[]; classes: string[] } {
  const subdirs = entries(dir)
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statEntry(join(dir, e.name)).isDirectory()))
    .map((e) => e.name);
  if (subdirs.length === 0) throw new DataError(dir, 'no class sub-folders (expected <split>/<class>/*.png|jpg)');
  const cls = classes ?? subdirs;
  const files: string[] = [];
  const labels: number[] = [];
  for (const d of subdirs) {
    const label = cls.indexOf(d);
    if (label < 0) throw new DataError(join(dir, d), `class '${d}' does not exist in the training split (${cls.length} classes)`);
    for (const e of entries(join(dir, d))) {
      if (!IMAGE_EXT.test(e.name)) continue;
      const path = join(dir, d, e.name);
      const st = e.isFile() ? null : statEntry(path);
      if (st && !st.isFile()) throw new DataError(path, `is not a regular file (${st.isDirectory() ? 'a folder' : 'a FIFO, socket or device'})`);
      try {
        hostFiles('data.loadDataset').access(path, 'read');
      } catch (err) {
        throw new DataError(path, `cannot read image (${ioReason(err)})`);
      }
      files.push(path);
      labels.push(label);
    }
  }
  if (files.length === 0) throw new DataError(dir, 'no .png/.jpg images in its class sub-folders');
  return { files, labels, classes: cls };
}

export class FolderSplit implements Split {
  readonly labels: Int32Array;
  readonly c = 3;
  private cache: Uint8Array;
  private decoded: Uint8Array;
  private readonly limits: ImageLimits;
  constructor(
    readonly files: string[],
    labels: number[],
    readonly size: number,
    readonly source: string,
    opts: { limits?: ImageLimits; maxSplitBytes?: number } = {},
  ) {
    this.labels = Int32Array.from(labels);
    this.limits = opts.limits ?? DEFAULT_IMAGE_LIMITS;
    const cap = opts.maxSplitBytes ?? DEFAULT_MAX_SPLIT_BYTES;
    const bytes = files.length * 3 * size * size;
    if (bytes > cap) {
      throw new DataError(source, `${files.length} images of 3×${size}×${size} take ${formatBytes(bytes)} decoded, over the limit of ${formatBytes(cap)} for one split (use a smaller --image-size or fewer images)`);
    }
    this.cache = new Uint8Array(bytes);
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
    if (!this.decoded[i]) {
      resizeCenterCrop(decodeImage(this.files[i], this.limits), this.size, this.cache, i * sz);
      this.decoded[i] = 1;
    }
    dst.set(this.cache.subarray(i * sz, (i + 1) * sz), offset);
  }
}
