// Small data sets written in the exact on-disk formats the readers know (IDX raw
// and gzip, CIFAR-10/100 binary, PNG/JPEG image folders), for the data, train and CLI tests.
// Imports no GPU code (the data fuzz test runs it in a worker thread).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

/**
 * The seeded generator of ./ref.mjs (mulberry32, the same stream), repeated here so that
 * this module imports no GPU code: the data fuzz test's worker thread uses it.
 */
function rng(seed = 1) {
  let s = seed >>> 0;
  return {
    next() {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

export function tmp(prefix = 'fn-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** IDX bytes: type 0x08 (ubyte), dims big-endian. */
export function idxBytes(dims, data) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/**
 * An MNIST-style folder: n train and m test images of h×w, labels < classes.
 * Pixels are learnable: each class is a bright band at a class-specific row, plus noise.
 * Train files raw, test files gzip (both forms are exercised).
 */
export function writeIdxSet(dir, { n = 64, m = 32, h = 8, w = 8, classes = 10, seed = 1, gzipTrain = false, gzipTest = true } = {}) {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const make = (count) => {
    const labels = Uint8Array.from({ length: count }, () => Math.floor(r.next() * classes));
    const images = new Uint8Array(count * h * w);
    for (let i = 0; i < count; i++) {
      for (let p = 0; p < h * w; p++) images[i * h * w + p] = Math.floor(r.next() * 60);
      const row = labels[i] % h;
      const col0 = Math.floor(labels[i] / h) * 2;
      for (let x = 0; x < w; x++) images[i * h * w + row * w + ((x + col0) % w)] = 200 + Math.floor(r.next() * 55);
    }
    return { labels, images };
  };
  const tr = make(n);
  const te = make(m);
  const put = (name, bytes, gz) => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  put('train-images-idx3-ubyte', idxBytes([n, h, w], tr.images), gzipTrain);
  put('train-labels-idx1-ubyte', idxBytes([n], tr.labels), gzipTrain);
  put('t10k-images-idx3-ubyte', idxBytes([m, h, w], te.images), gzipTest);
  put('t10k-labels-idx1-ubyte', idxBytes([m], te.labels), gzipTest);
  return { train: tr, test: te, h, w };
}

/** CIFAR-10 binaries: records of [label, 3072 pixels]. */
export function writeCifar10(dir, counts = [3, 2], testCount = 2, seed = 2) {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const recs = (k) => {
    const labels = Array.from({ length: k }, () => Math.floor(r.next() * 10));
    const pixels = Array.from({ length: k }, () => Uint8Array.from({ length: 3072 }, () => Math.floor(r.next() * 256)));
    const buf = Buffer.concat(labels.map((l, i) => Buffer.concat([Buffer.from([l]), Buffer.from(pixels[i])])));
    return { labels, pixels, buf };
  };
  const batches = counts.map((k, i) => {
    const b = recs(k);
    writeFileSync(join(dir, `data_batch_${i + 1}.bin`), b.buf);
    return b;
  });
  const test = recs(testCount);
  writeFileSync(join(dir, 'test_batch.bin'), test.buf);
  return { batches, test };
}

/** CIFAR-100 binaries: records of [coarse, fine, 3072 pixels]. */
export function writeCifar100(dir, n = 4, m = 3, seed = 3) {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const recs = (k) => {
    const coarse = Array.from({ length: k }, () => Math.floor(r.next() * 20));
    const fine = Array.from({ length: k }, () => Math.floor(r.next() * 100));
    const pixels = Array.from({ length: k }, () => Uint8Array.from({ length: 3072 }, () => Math.floor(r.next() * 256)));
    const buf = Buffer.concat(fine.map((f, i) => Buffer.concat([Buffer.from([coarse[i], f]), Buffer.from(pixels[i])])));
    return { coarse, fine, pixels, buf };
  };
  const train = recs(n);
  const test = recs(m);
  writeFileSync(join(dir, 'train.bin'), train.buf);
  writeFileSync(join(dir, 'test.bin'), test.buf);
  return { train, test };
}

export function pngBytes(width, height, pixel) {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const [r, g, b] = pixel(x, y);
    const o = (y * width + x) * 4;
    png.data[o] = r; png.data[o + 1] = g; png.data[o + 2] = b; png.data[o + 3] = 255;
  }
  return PNG.sync.write(png);
}

export function jpegBytes(width, height, pixel) {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const [r, g, b] = pixel(x, y);
    const o = (y * width + x) * 4;
    data[o] = r; data[o + 1] = g; data[o + 2] = b; data[o + 3] = 255;
  }
  return jpeg.encode({ data, width, height }, 95).data;
}

/** CRC-32 (IEEE) as in PNG chunks and gzip trailers. */
export function crc32(bytes) {
  let c = -1;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

/** A valid tiny PNG whose IHDR then declares width×height (CRC fixed), as a decompression-bomb probe. */
export function pngDeclaring(width, height) {
  const png = Buffer.from(pngBytes(2, 2, () => [9, 99, 199]));
  // signature (8) + IHDR length (4) + 'IHDR' (4) + width, height (8) + 5 bytes + CRC (4)
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A valid tiny JPEG whose SOF0 then declares width×height. */
export function jpegDeclaring(width, height) {
  const jpg = Buffer.from(jpegBytes(8, 8, () => [40, 80, 120]));
  for (let i = 2; i < jpg.length - 9; i++) {
    if (jpg[i] === 0xff && jpg[i + 1] === 0xc0) {
      jpg.writeUInt16BE(height, i + 5);
      jpg.writeUInt16BE(width, i + 7);
      return jpg;
    }
  }
  throw new Error('no SOF0 marker in the encoded JPEG');
}

/**
 * An image folder: files maps 'train/cat/a.png' → bytes (or a function of the path
 * that creates the entry itself, for links and FIFOs). Returns the root.
 */
export function writeImageFolder(dir, files) {
  for (const [rel, bytes] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    if (typeof bytes === 'function') bytes(p);
    else writeFileSync(p, bytes);
  }
  return dir;
}
