// File access (see files.ts): data sets on disk, detected from a folder's files:
//   IDX      train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-... (MNIST style)
//   CIFAR-10 data_batch_*.bin, test_batch.bin
//   CIFAR-100 train.bin, test.bin (coarse and fine labels; fine by default)
//   folder   train/<class>/*.png|jpg, val/<class>/... (or test/)
// This file finds and reads the files; parsing and the checks are the platform-free
// builders of ../assemble.ts, the same a page calls with fetched bytes.
import { hostFiles, join } from '../../platform/files.js';
import { DataError } from '../errors.js';
import { Dataset, DataFormat, LoadOptions, checkDataset, cifar100Dataset, cifar10Dataset, idxDataset } from '../assemble.js';
import { DEFAULT_IMAGE_LIMITS } from '../image-header.js';
import type { NamedBytes } from '../idx.js';
import { FolderSplit, listClassFolder } from './folder.js';
import { classNamesFor } from './classes.js';
import { entryExists, isFolder, listFolder, readDataFile, statOrNull } from './files.js';

const IDX_NAMES = (split: 'train' | 't10k', kind: 'images' | 'labels') => {
  const n = kind === 'images' ? 3 : 1;
  return [`${split}-${kind}-idx${n}-ubyte`, `${split}-${kind}.idx${n}-ubyte`].flatMap((b) => [b, `${b}.gz`]);
};

const read = (path: string, what: string): NamedBytes => ({ name: path, bytes: readDataFile(path, what) });

export function detectFormat(dir: string): DataFormat {
  hostFiles('data.detectFormat');
  const st = statOrNull(dir);
  if (!st) throw new DataError(dir, 'data folder does not exist');
  if (!st.isDirectory()) throw new DataError(dir, 'is not a folder');
  const files = listFolder(dir);
  const has = (f: string) => files.includes(f);
  if (IDX_NAMES('train', 'images').some(has)) return 'idx';
  if (files.some((f) => /^data_batch_\d+\.bin$/.test(f)) || has('test_batch.bin')) return 'cifar10';
  if (has('train.bin') || has('test.bin')) return 'cifar100';
  if (has('train') && isFolder(join(dir, 'train'))) return 'folder';
  throw new DataError(dir, `unknown data format: expected IDX files (train-images-idx3-ubyte[.gz], ...), CIFAR binaries (data_batch_*.bin/test_batch.bin or train.bin/test.bin) or an image folder (train/<class>/*.png|jpg); found ${files.length ? files.slice(0, 8).join(', ') + (files.length > 8 ? ', ...' : '') : 'an empty folder'}`);
}

function findOne(dir: string, names: string[], what: string): string {
  for (const n of names) if (entryExists(join(dir, n))) return join(dir, n);
  throw new DataError(join(dir, names[0]), `missing ${what} (also looked for ${names.slice(1).join(', ')})`);
}

function requireFile(path: string, what: string): string {
  if (!entryExists(path)) throw new DataError(path, `missing ${what}`);
  return path;
}

export function loadDataset(dir: string, opts: LoadOptions = {}): Dataset {
  hostFiles('data.loadDataset');
  const format = detectFormat(dir);
  if (format === 'idx') {
    const numClasses = opts.numClasses ?? 10;
    const file = (split: 'train' | 't10k', kind: 'images' | 'labels') => read(findOne(dir, IDX_NAMES(split, kind), `${split} ${kind}`), `${split} ${kind}`);
    return idxDataset(
      { trainImages: file('train', 'images'), trainLabels: file('train', 'labels'), testImages: file('t10k', 'images'), testLabels: file('t10k', 'labels') },
      dir,
      { numClasses, classNames: classNamesFor(format, dir, numClasses) },
    );
  }
  if (format === 'cifar10') {
    const batches = listFolder(dir)
      .filter((f) => /^data_batch_\d+\.bin$/.test(f))
      .sort((a, b) => parseInt(a.slice(11)) - parseInt(b.slice(11)));
    if (batches.length === 0) throw new DataError(join(dir, 'data_batch_1.bin'), 'missing CIFAR-10 training batches');
    const testPath = requireFile(join(dir, 'test_batch.bin'), 'CIFAR-10 test batch');
    return cifar10Dataset(
      batches.map((f) => read(join(dir, f), 'CIFAR-10 batch')),
      read(testPath, 'CIFAR-10 test batch'),
      dir,
      { classNames: classNamesFor(format, dir, 10) },
    );
  }
  if (format === 'cifar100') {
    const labels = opts.cifar100Labels === 'coarse' ? 'coarse' : 'fine';
    const [tr, te] = ['train.bin', 'test.bin'].map((f) => requireFile(join(dir, f), 'CIFAR-100 file'));
    return cifar100Dataset(read(tr, 'CIFAR-100 file'), read(te, 'CIFAR-100 file'), dir, {
      cifar100Labels: labels,
      classNames: classNamesFor(format, dir, labels === 'coarse' ? 20 : 100, labels),
    });
  }
  const size = opts.imageSize ?? 32;
  if (!Number.isInteger(size) || size < 1 || size > 16384) throw new DataError(dir, `an image folder needs an image size (--image-size) that is a whole number in [1, 16384], got ${size}`);
  const trainDir = join(dir, 'train');
  const valDir = ['val', 'test'].map((s) => join(dir, s)).find((p) => entryExists(p));
  if (!valDir) throw new DataError(join(dir, 'val'), 'missing validation folder (val/<class>/... or test/<class>/...)');
  const valStat = statOrNull(valDir);
  if (!valStat) throw new DataError(valDir, 'broken symbolic link (its target does not exist)');
  if (!valStat.isDirectory()) throw new DataError(valDir, 'is not a folder (expected <class>/*.png|jpg inside)');
  const tr = listClassFolder(trainDir, null);
  const va = listClassFolder(valDir, tr.classes);
  const split = {
    limits: { maxPixels: opts.maxImagePixels ?? DEFAULT_IMAGE_LIMITS.maxPixels, maxSide: opts.maxImageSide ?? DEFAULT_IMAGE_LIMITS.maxSide },
    maxSplitBytes: opts.maxSplitBytes,
  };
  return checkDataset({
    format,
    dir,
    train: new FolderSplit(tr.files, tr.labels, size, trainDir, split),
    test: new FolderSplit(va.files, va.labels, size, valDir, split),
    numClasses: tr.classes.length,
    classNames: tr.classes,
    augmentByDefault: true,
  });
}
