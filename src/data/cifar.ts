// CIFAR-10 and CIFAR-100 binary versions.
//   CIFAR-10:  data_batch_1..5.bin, test_batch.bin; records of 1 label byte + 3072 pixel bytes
//   CIFAR-100: train.bin, test.bin; records of 1 coarse label + 1 fine label + 3072 pixel bytes
// Pixels are stored channel-planar (1024 red, 1024 green, 1024 blue), 32×32.
import { DataError, readDataFile } from './errors.js';
import { MemorySplit } from './split.js';

const PIXELS = 3 * 32 * 32;

export function readCifarFiles(paths: string[], labelBytes: 1 | 2, labelIndex: number, numClasses: number, what: string): MemorySplit {
  const record = labelBytes + PIXELS;
  const parts: { buf: Uint8Array; path: string }[] = [];
  let total = 0;
  for (const p of paths) {
    const buf = readDataFile(p);
    if (buf.length === 0) throw new DataError(p, 'empty file');
    if (buf.length % record !== 0) {
      throw new DataError(p, `truncated or corrupt ${what} file: ${buf.length} bytes is not a multiple of the ${record}-byte record (${Math.floor(buf.length / record)} whole records, ${buf.length % record} bytes left over)`);
    }
    parts.push({ buf: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path: p });
    total += buf.length / record;
  }
  const images = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  let k = 0;
  for (const { buf, path } of parts) {
    const n = buf.length / record;
    for (let i = 0; i < n; i++, k++) {
      const base = i * record;
      const label = buf[base + labelIndex];
      if (label >= numClasses) throw new DataError(path, `record ${i} has label ${label}, beyond the ${numClasses} classes of ${what}`);
      labels[k] = label;
      images.set(buf.subarray(base + labelBytes, base + record), k * PIXELS);
    }
  }
  return new MemorySplit(images, labels, 3, 32, 32, paths.join(', '));
}
