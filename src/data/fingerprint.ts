// A data set's fingerprint, for `--resume` to tell whether it is training on the data
// a run was started with: format, folder, split sizes and a SHA-256 (@noble/hashes) of
// both splits' shapes, all their labels and the pixels of up to `samples` evenly spaced
// images of each (the first included). Cheap: it reads at most 2 × samples images.
// The folder is reported, not hashed, so a data set that moved keeps its hash.
// Platform-free (see core.ts).
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import type { Split } from './split.js';
import type { Dataset, DataFormat } from './assemble.js';

export interface DataFingerprint {
  format: DataFormat;
  dir: string;
  /** training images */
  train: number;
  /** test images */
  test: number;
  /** hex SHA-256 of the shapes, labels and sampled pixels of both splits */
  hash: string;
}

/** Images sampled per split by default. */
export const FINGERPRINT_SAMPLES = 1024;

const VERSION = 'focusnet data fingerprint v1';

export function fingerprint(ds: Pick<Dataset, 'format' | 'dir' | 'train' | 'test'>, samples = FINGERPRINT_SAMPLES): DataFingerprint {
  const h = sha256.create();
  h.update(new TextEncoder().encode(`${VERSION} samples=${samples}`));
  for (const split of [ds.train, ds.test]) hashSplit(h, split, samples);
  return { format: ds.format, dir: ds.dir, train: ds.train.n, test: ds.test.n, hash: bytesToHex(h.digest()) };
}

function hashSplit(h: ReturnType<typeof sha256.create>, split: Split, samples: number): void {
  const { n, c, h: height, w } = split;
  const head = new DataView(new ArrayBuffer(16));
  [n, c, height, w].forEach((v, i) => head.setUint32(4 * i, v, true));
  h.update(new Uint8Array(head.buffer));
  // labels as little-endian i32, whatever the platform's byte order
  const labels = new DataView(new ArrayBuffer(4 * n));
  for (let i = 0; i < n; i++) labels.setInt32(4 * i, split.labels[i], true);
  h.update(new Uint8Array(labels.buffer));
  const k = Math.min(n, samples);
  const img = new Uint8Array(c * height * w);
  for (let j = 0; j < k; j++) {
    split.readImage(Math.floor((j * n) / k), img, 0);
    h.update(img);
  }
}

/**
 * Why a data set is not the one a fingerprint was taken of (null when it is): the
 * differences in words, for `--resume` to print ("format idx → cifar10; 60000 → 50000
 * training images; ...").
 */
export function fingerprintMismatch(saved: DataFingerprint, now: DataFingerprint): string | null {
  const diffs: string[] = [];
  if (saved.format !== now.format) diffs.push(`format ${saved.format} → ${now.format}`);
  if (saved.train !== now.train) diffs.push(`${saved.train} → ${now.train} training images`);
  if (saved.test !== now.test) diffs.push(`${saved.test} → ${now.test} test images`);
  if (saved.hash !== now.hash) diffs.push(`content hash ${saved.hash.slice(0, 12)}… → ${now.hash.slice(0, 12)}…`);
  if (diffs.length === 0) return null;
  return `the run was started on ${saved.format} data at ${saved.dir}, this is ${now.format} data at ${now.dir}: ${diffs.join('; ')}`;
}
