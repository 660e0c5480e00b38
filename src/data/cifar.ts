// CIFAR-10 and CIFAR-100 binary versions, from bytes.
//   CIFAR-10:  data_batch_1..5.bin, test_batch.bin; records of 1 label byte + 3072 pixel bytes
//   CIFAR-100: train.bin, test.bin; records of 1 coarse label + 1 fine label + 3072 pixel bytes
// Pixels are stored channel-planar (1024 red, 1024 green, 1024 blue), 32×32.
// Platform-free (see core.ts); node/load.ts reads the files.
import { DataError } from './errors.js';
import { MemorySplit } from './split.js';
import type { NamedBytes } from './idx.js';

const PIXELS = 3 * 32 * 32;

/** One split from CIFAR binary files (concatenated in the given order). */
export function cifarSplit(files: NamedBytes[], labelBytes: 1 | 2, labelIndex: number, numClasses: number, what: string): MemorySplit {
  const record = labelBytes + PIXELS;
  let total = 0;
  for (const { name, bytes } of files) {
    if (bytes.length === 0) throw new DataError(name, 'empty file');
    if (bytes.length % record !== 0) {
      throw new DataError(name, `truncated or corrupt ${what} file: ${bytes.length} bytes is not a multiple of the ${record}-byte record (${Math.floor(bytes.length / record)} whole records, ${bytes.length % record} bytes left over)`);
    }
    total += bytes.length / record;
  }
  const images = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  let k = 0;
  for (const { name, bytes } of files) {
    const n = bytes.length / record;
    for (let i = 0; i < n; i++, k++) {
      const base = i * record;
      const label = bytes[base + labelIndex];
      if (label >= numClasses) throw new DataError(name, `record ${i} has label ${label}, beyond the ${numClasses} classes of ${what}`);
      labels[k] = label;
      images.set(bytes.subarray(base + labelBytes, base + record), k * PIXELS);
    }
  }
  return new MemorySplit(images, labels, 3, 32, 32, files.map((f) => f.name).join(', '));
}
