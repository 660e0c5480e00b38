// IDX files (MNIST, Fashion-MNIST), from bytes: raw or gzip-compressed.
// Layout: two zero bytes, a type byte (0x08 = unsigned byte), the number of
// dimensions, then each dimension as a big-endian u32, then the data.
// Platform-free (see core.ts); node/idx.ts reads the files.
import { DataError } from './errors.js';
import { maybeGunzip } from './gzip.js';
import { MemorySplit } from './split.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** A file's name (for messages) and its bytes, as read from disk or fetched by a page. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
  if (bytes.length < 4) throw new DataError(path, `truncated IDX file: ${bytes.length} bytes, the header alone needs 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DataError(path, `not an IDX file (magic bytes ${bytes[0]}, ${bytes[1]}; expected 0, 0)`);
  if (bytes[2] !== 0x08) throw new DataError(path, `IDX element type 0x${bytes[2].toString(16)} is not supported (only 0x08, unsigned byte)`);
  const nd = bytes[3];
  if (nd < 1 || nd > 4) throw new DataError(path, `IDX file with ${nd} dimensions is not supported`);
  const head = 4 + 4 * nd;
  if (bytes.length < head) throw new DataError(path, `truncated IDX header: ${bytes.length} bytes, expected at least ${head}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(dv.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < head + count) {
    throw new DataError(path, `truncated IDX file: dimensions [${dims.join(', ')}] need ${head + count} bytes, found ${bytes.length}`);
  }
  if (bytes.length > head + count) {
    throw new DataError(path, `corrupt IDX file: ${bytes.length - head - count} bytes after the data that dimensions [${dims.join(', ')}] describe`);
  }
  return { dims, data: bytes.subarray(head, head + count) };
}

/** parseIdx of a file's bytes, gunzipped first when they start with the gzip magic. */
export function decodeIdx(file: NamedBytes): IdxArray {
  return parseIdx(maybeGunzip(file.bytes, file.name), file.name);
}

/**
 * One split from an IDX image file ([N, H, W]) and label file ([N]), raw or gzip:
 * the counts must agree, images must have pixels, labels must be below numClasses.
 * (Non-empty and square splits, and train/test agreement, are checked by checkDataset.)
 */
export function idxSplit(images: NamedBytes, labels: NamedBytes, numClasses: number): MemorySplit {
  const imgs = decodeIdx(images);
  const labs = decodeIdx(labels);
  const ipath = images.name;
  const lpath = labels.name;
  if (imgs.dims.length !== 3) throw new DataError(ipath, `expected 3 dimensions [N, H, W] for images, got [${imgs.dims.join(', ')}]`);
  if (labs.dims.length !== 1) throw new DataError(lpath, `expected 1 dimension [N] for labels, got [${labs.dims.join(', ')}]`);
  const [n, h, w] = imgs.dims;
  if (n > 0 && (h === 0 || w === 0)) throw new DataError(ipath, `images of ${h}×${w} pixels (dimensions [${imgs.dims.join(', ')}]) have no pixels`);
  if (labs.dims[0] !== n) throw new DataError(lpath, `has ${labs.dims[0]} labels but ${ipath} has ${n} images`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labs.data[i];
    if (l >= numClasses) throw new DataError(lpath, `label ${l} at index ${i} is beyond the ${numClasses} classes (pass --num-classes if the data set has more)`);
    out[i] = l;
  }
  return new MemorySplit(imgs.data, out, 1, h, w, ipath);
}
