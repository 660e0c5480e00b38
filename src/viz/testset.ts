// Reads single images of a data set's test split for `focusnet cam`, from the
// on-disk formats the trainer knows: IDX (MNIST, Fashion-MNIST; gzip or raw),
// CIFAR-10/100 binary, and image folders (val/<class>/*.png|jpg). Also gives class
// names and the per-channel mean/std of the training split (the trainer's default
// input normalization).

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { VizInputError } from './errors.js';

export interface TestImage {
  /** planes [C, H, W], values in [0, 1] */
  pixels: Float32Array;
  channels: number;
  height: number;
  width: number;
  label: number;
  /** size of the test split */
  count: number;
}

export interface DataSet {
  format: 'idx' | 'cifar10' | 'cifar100' | 'folder';
  dir: string;
  classes: string[];
  testCount: number;
  image(i: number): TestImage;
  /** per-channel mean and std of the training split, values in [0, 1] */
  stats(): { mean: number[]; std: number[] };
}

const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function findFile(dir: string, names: string[]): string | null {
  for (const n of names) {
    for (const cand of [n, n + '.gz', n.replace(/-idx/, '.idx')]) {
      const p = join(dir, cand);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

function readMaybeGz(p: string): Buffer {
  const b = readFileSync(p);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      return gunzipSync(b);
    } catch (e) {
      throw new VizInputError(`--data: ${p} is not a valid gzip file (${(e as Error).message})`);
    }
  }
  return b;
}

function idxSet(dir: string): DataSet | null {
  const timg = findFile(dir, ['t10k-images-idx3-ubyte']);
  const tlab = findFile(dir, ['t10k-labels-idx1-ubyte']);
  if (!timg || !tlab) return null;
  const img = readMaybeGz(timg);
  const lab = readMaybeGz(tlab);
  if (img.length < 16 || img.readUInt32BE(0) !== 0x803) throw new VizInputError(`--data: ${timg} is not an IDX image file (bad magic number)`);
  if (lab.length < 8 || lab.readUInt32BE(0) !== 0x801) throw new VizInputError(`--data: ${tlab} is not an IDX label file (bad magic number)`);
  const n = img.readUInt32BE(4);
  const H = img.readUInt32BE(8);
  const W = img.readUInt32BE(12);
  if (img.length < 16 + n * H * W) throw new VizInputError(`--data: ${timg} is truncated (${n} images of ${H}×${W} announced)`);
  if (lab.readUInt32BE(4) !== n || lab.length < 8 + n) throw new VizInputError(`--data: ${tlab} has ${lab.readUInt32BE(4)} labels but ${timg} has ${n} images`);
  const fashion = /fashion/i.test(dir);
  return {
    format: 'idx',
    dir,
    classes: fashion ? FASHION : Array.from({ length: 10 }, (_, i) => String(i)),
    testCount: n,
    image(i) {
      const px = new Float32Array(H * W);
      for (let k = 0; k < H * W; k++) px[k] = img[16 + i * H * W + k] / 255;
      return { pixels: px, channels: 1, height: H, width: W, label: lab[8 + i], count: n };
    },
    stats() {
      const tr = findFile(dir, ['train-images-idx3-ubyte']);
      const b = tr ? readMaybeGz(tr) : img;
      let s = 0;
      let s2 = 0;
      const m = b.length - 16;
      for (let k = 16; k < b.length; k++) {
        const v = b[k] / 255;
        s += v;
        s2 += v * v;
      }
      const mean = s / m;
      return { mean: [mean], std: [Math.sqrt(Math.max(1e-12, s2 / m - mean * mean))] };
    },
  };
}

function cifarSet(dir: string): DataSet | null {
  const c10 = join(dir, 'test_batch.bin');
  const c100 = join(dir, 'test.bin');
  const is10 = existsSync(c10);
  if (!is10 && !existsSync(c100)) return null;
  const file = is10 ? c10 : c100;
  const b = readFileSync(file);
  const rec = is10 ? 3073 : 3074;
  if (b.length % rec !== 0) throw new VizInputError(`--data: ${file} has ${b.length} bytes, not a multiple of the ${rec}-byte CIFAR record`);
  const n = b.length / rec;
  let classes = is10 ? CIFAR10 : Array.from({ length: 100 }, (_, i) => String(i));
  const meta = [join(dir, is10 ? 'batches.meta.txt' : 'fine_label_names.txt')].find((p) => existsSync(p));
  if (meta) {
    const names = readFileSync(meta, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
    if (names.length >= (is10 ? 10 : 100)) classes = names;
  }
  const trainFiles = is10 ? [1, 2, 3, 4, 5].map((k) => join(dir, `data_batch_${k}.bin`)).filter(existsSync) : [join(dir, 'train.bin')].filter(existsSync);
  return {
    format: is10 ? 'cifar10' : 'cifar100',
    dir,
    classes,
    testCount: n,
    image(i) {
      const o = i * rec;
      const label = is10 ? b[o] : b[o + 1];
      const px = new Float32Array(3072);
      for (let k = 0; k < 3072; k++) px[k] = b[o + rec - 3072 + k] / 255;
      return { pixels: px, channels: 3, height: 32, width: 32, label, count: n };
    },
    stats() {
      const s = [0, 0, 0];
      const s2 = [0, 0, 0];
      let cnt = 0;
      for (const f of trainFiles.length ? trainFiles : [file]) {
        const d = readFileSync(f);
        for (let o = 0; o + rec <= d.length; o += rec) {
          for (let c = 0; c < 3; c++) {
            const base = o + rec - 3072 + c * 1024;
            for (let k = 0; k < 1024; k++) {
              const v = d[base + k] / 255;
              s[c] += v;
              s2[c] += v * v;
            }
          }
          cnt += 1024;
        }
      }
      const mean = s.map((v) => v / cnt);
      return { mean, std: s2.map((v, c) => Math.sqrt(Math.max(1e-12, v / cnt - mean[c] * mean[c]))) };
    },
  };
}

function decodeImage(p: string): { data: Uint8Array; width: number; height: number } {
  const buf = readFileSync(p);
  try {
    if (/\.png$/i.test(p)) {
      const png = PNG.sync.read(buf);
      return { data: png.data, width: png.width, height: png.height };
    }
    const j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true });
    return { data: j.data, width: j.width, height: j.height };
  } catch (e) {
    throw new VizInputError(`--data: cannot decode ${p} (${(e as Error).message})`);
  }
}

/** Resize the shorter side to `size` (bilinear) and center-crop to size×size → planes [3, size, size]. */
function resizeCrop(img: { data: Uint8Array; width: number; height: number }, size: number): Float32Array {
  const { data, width, height } = img;
  const s = size / Math.min(width, height);
  const rw = Math.max(size, Math.round(width * s));
  const rh = Math.max(size, Math.round(height * s));
  const ox = Math.floor((rw - size) / 2);
  const oy = Math.floor((rh - size) / 2);
  const out = new Float32Array(3 * size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = Math.min(width - 1, Math.max(0, ((x + ox + 0.5) * width) / rw - 0.5));
      const sy = Math.min(height - 1, Math.max(0, ((y + oy + 0.5) * height) / rh - 0.5));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const at = (xx: number, yy: number) => data[(yy * width + xx) * 4 + c] / 255;
        out[c * size * size + y * size + x] = (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy;
      }
    }
  }
  return out;
}

function folderSet(dir: string, size: number): DataSet | null {
  const split = ['val', 'test'].map((s) => join(dir, s)).find((p) => existsSync(p) && statSync(p).isDirectory());
  if (!split) return null;
  const classes = readdirSync(split).filter((c) => statSync(join(split, c)).isDirectory()).sort();
  const files: [string, number][] = [];
  classes.forEach((c, k) => {
    for (const f of readdirSync(join(split, c)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()) files.push([join(split, c, f), k]);
  });
  const trainDir = join(dir, 'train');
  return {
    format: 'folder',
    dir,
    classes,
    testCount: files.length,
    image(i) {
      const [p, label] = files[i];
      return { pixels: resizeCrop(decodeImage(p), size), channels: 3, height: size, width: size, label, count: files.length };
    },
    stats() {
      // A sample of up to 200 training images (the full folder may be large).
      const src = existsSync(trainDir) ? trainDir : split;
      const list: string[] = [];
      for (const c of readdirSync(src).sort()) {
        const d = join(src, c);
        if (!statSync(d).isDirectory()) continue;
        for (const f of readdirSync(d).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().slice(0, 20)) list.push(join(d, f));
      }
      const s = [0, 0, 0];
      const s2 = [0, 0, 0];
      let cnt = 0;
      for (const p of list.slice(0, 200)) {
        const px = resizeCrop(decodeImage(p), size);
        const hw = size * size;
        for (let c = 0; c < 3; c++) for (let k = 0; k < hw; k++) {
          const v = px[c * hw + k];
          s[c] += v;
          s2[c] += v * v;
        }
        cnt += size * size;
      }
      if (!cnt) return { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
      const mean = s.map((v) => v / cnt);
      return { mean, std: s2.map((v, c) => Math.sqrt(Math.max(1e-12, v / cnt - mean[c] * mean[c]))) };
    },
  };
}

/** Open the test split of a data folder, detecting its format from its files. */
export function openDataSet(dir: string, opts: { imageSize?: number } = {}): DataSet {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VizInputError(`--data: ${dir} is not a folder`);
  const ds = idxSet(dir) ?? cifarSet(dir) ?? folderSet(dir, opts.imageSize ?? 32);
  if (!ds) {
    throw new VizInputError(
      `--data: no test split found in ${basename(dir) || dir} (${dir}): expected IDX (t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]), ` +
        `CIFAR binary (test_batch.bin or test.bin) or an image folder (val/<class>/*.png|jpg)`,
    );
  }
  if (ds.testCount === 0) throw new VizInputError(`--data: the test split in ${dir} is empty`);
  return ds;
}

/** Image planes normalized per channel: (v − mean_c) / std_c. */
export function normalize(img: TestImage, mean: number[], std: number[]): Float32Array {
  const hw = img.height * img.width;
  const out = new Float32Array(img.pixels.length);
  for (let c = 0; c < img.channels; c++) {
    const m = mean[c] ?? mean[0] ?? 0;
    const s = std[c] ?? std[0] ?? 1;
    for (let k = 0; k < hw; k++) out[c * hw + k] = (img.pixels[c * hw + k] - m) / s;
  }
  return out;
}
