// Data sets on disk, detected from a folder's files:
//   IDX      train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-... (MNIST style)
//   CIFAR-10 data_batch_*.bin, test_batch.bin
//   CIFAR-100 train.bin, test.bin (coarse and fine labels; fine by default)
//   folder   train/<class>/*.png|jpg, val/<class>/... (or test/)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { MemorySplit, Split } from './split.js';
import { readIdx } from './idx.js';
import { readCifarFiles } from './cifar.js';
import { FolderSplit, listClassFolder } from './folder.js';
import { classNamesFor } from './classes.js';

export type DataFormat = 'idx' | 'cifar10' | 'cifar100' | 'folder';

export interface Dataset {
  format: DataFormat;
  dir: string;
  train: Split;
  test: Split;
  numClasses: number;
  classNames: string[];
  /** whether random crop + flip suit this data (off for MNIST-style digits and clothes) */
  augmentByDefault: boolean;
}

export interface LoadOptions {
  /** number of classes for IDX data (default 10) */
  numClasses?: number;
  /** CIFAR-100 label set (default 'fine') */
  cifar100Labels?: 'fine' | 'coarse';
  /** side of the square images from an image folder (default 32) */
  imageSize?: number;
}

const IDX_NAMES = (split: 'train' | 't10k', kind: 'images' | 'labels') => {
  const n = kind === 'images' ? 3 : 1;
  return [`${split}-${kind}-idx${n}-ubyte`, `${split}-${kind}.idx${n}-ubyte`].flatMap((b) => [b, `${b}.gz`]);
};

export function detectFormat(dir: string): DataFormat {
  if (!existsSync(dir)) throw new DataError(dir, 'data folder does not exist');
  if (!statSync(dir).isDirectory()) throw new DataError(dir, 'is not a folder');
  const files = readdirSync(dir);
  const has = (f: string) => files.includes(f);
  if (IDX_NAMES('train', 'images').some(has)) return 'idx';
  if (files.some((f) => /^data_batch_\d+\.bin$/.test(f)) || has('test_batch.bin')) return 'cifar10';
  if (has('train.bin') || has('test.bin')) return 'cifar100';
  if (has('train') && statSync(join(dir, 'train')).isDirectory()) return 'folder';
  throw new DataError(dir, `unknown data format: expected IDX files (train-images-idx3-ubyte[.gz], ...), CIFAR binaries (data_batch_*.bin/test_batch.bin or train.bin/test.bin) or an image folder (train/<class>/*.png|jpg); found ${files.length ? files.slice(0, 8).join(', ') + (files.length > 8 ? ', ...' : '') : 'an empty folder'}`);
}

function findOne(dir: string, names: string[], what: string): string {
  for (const n of names) if (existsSync(join(dir, n))) return join(dir, n);
  throw new DataError(join(dir, names[0]), `missing ${what} (also looked for ${names.slice(1).join(', ')})`);
}

function loadIdxSplit(dir: string, split: 'train' | 't10k', numClasses: number): MemorySplit {
  const ipath = findOne(dir, IDX_NAMES(split, 'images'), `${split} images`);
  const lpath = findOne(dir, IDX_NAMES(split, 'labels'), `${split} labels`);
  const imgs = readIdx(ipath);
  const labs = readIdx(lpath);
  if (imgs.dims.length !== 3) throw new DataError(ipath, `expected 3 dimensions [N, H, W] for images, got [${imgs.dims.join(', ')}]`);
  if (labs.dims.length !== 1) throw new DataError(lpath, `expected 1 dimension [N] for labels, got [${labs.dims.join(', ')}]`);
  const [n, h, w] = imgs.dims;
  if (labs.dims[0] !== n) throw new DataError(lpath, `has ${labs.dims[0]} labels but ${ipath} has ${n} images`);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labs.data[i];
    if (l >= numClasses) throw new DataError(lpath, `label ${l} at index ${i} is beyond the ${numClasses} classes (pass --num-classes if the data set has more)`);
    labels[i] = l;
  }
  return new MemorySplit(imgs.data, labels, 1, h, w, ipath);
}

export function loadDataset(dir: string, opts: LoadOptions = {}): Dataset {
  const format = detectFormat(dir);
  if (format === 'idx') {
    const numClasses = opts.numClasses ?? 10;
    const train = loadIdxSplit(dir, 'train', numClasses);
    const test = loadIdxSplit(dir, 't10k', numClasses);
    if (train.h !== test.h || train.w !== test.w) throw new DataError(test.source, `test images are ${test.h}×${test.w} but training images are ${train.h}×${train.w}`);
    return { format, dir, train, test, numClasses, classNames: classNamesFor(format, dir, numClasses), augmentByDefault: false };
  }
  if (format === 'cifar10') {
    const files = readdirSync(dir).filter((f) => /^data_batch_\d+\.bin$/.test(f)).sort((a, b) => parseInt(a.slice(11)) - parseInt(b.slice(11)));
    if (files.length === 0) throw new DataError(join(dir, 'data_batch_1.bin'), 'missing CIFAR-10 training batches');
    const testPath = join(dir, 'test_batch.bin');
    if (!existsSync(testPath)) throw new DataError(testPath, 'missing CIFAR-10 test batch');
    const train = readCifarFiles(files.map((f) => join(dir, f)), 1, 0, 10, 'CIFAR-10');
    const test = readCifarFiles([testPath], 1, 0, 10, 'CIFAR-10');
    return { format, dir, train, test, numClasses: 10, classNames: classNamesFor(format, dir, 10), augmentByDefault: true };
  }
  if (format === 'cifar100') {
    const coarse = opts.cifar100Labels === 'coarse';
    const numClasses = coarse ? 20 : 100;
    const tr = join(dir, 'train.bin');
    const te = join(dir, 'test.bin');
    for (const p of [tr, te]) if (!existsSync(p)) throw new DataError(p, 'missing CIFAR-100 file');
    const train = readCifarFiles([tr], 2, coarse ? 0 : 1, numClasses, 'CIFAR-100');
    const test = readCifarFiles([te], 2, coarse ? 0 : 1, numClasses, 'CIFAR-100');
    return { format, dir, train, test, numClasses, classNames: classNamesFor(format, dir, numClasses, coarse ? 'coarse' : 'fine'), augmentByDefault: true };
  }
  const size = opts.imageSize ?? 32;
  const trainDir = join(dir, 'train');
  const valDir = ['val', 'test'].map((s) => join(dir, s)).find((p) => existsSync(p));
  if (!valDir) throw new DataError(join(dir, 'val'), 'missing validation folder (val/<class>/... or test/<class>/...)');
  const tr = listClassFolder(trainDir, null);
  const va = listClassFolder(valDir, tr.classes);
  return {
    format,
    dir,
    train: new FolderSplit(tr.files, tr.labels, size, trainDir),
    test: new FolderSplit(va.files, va.labels, size, valDir),
    numClasses: tr.classes.length,
    classNames: tr.classes,
    augmentByDefault: true,
  };
}
