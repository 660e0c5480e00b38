// A data set: its two splits, classes and format, and the checks every data set passes
// before anything trains (checkDataset). Builders for the byte formats (IDX, CIFAR-10,
// CIFAR-100) take the files' bytes, so a page that fetched them gets the same data set
// and the same errors as `loadDataset` (node/load.ts) reading a folder.
// Platform-free (see core.ts).
import { DataError } from './errors.js';
import { Split } from './split.js';
import { NamedBytes, idxSplit } from './idx.js';
import { cifarSplit } from './cifar.js';
import { classNamesFrom } from './classes.js';

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
  /** image folders: most pixels one image may declare (default 2^26, 64 megapixels) */
  maxImagePixels?: number;
  /** image folders: most pixels along either side of an image (default 16384) */
  maxImageSide?: number;
  /** image folders: most bytes the decoded images of one split may take (default 2 GiB) */
  maxSplitBytes?: number;
}

/** The default cap on the decoded (size×size×3) images of one image-folder split. */
export const DEFAULT_MAX_SPLIT_BYTES = 2 ** 31;

/**
 * What every data set must be before training: both splits non-empty, square images
 * (the models take one image size), and test images of the training images' shape.
 * Each failure is a DataError naming the split's file or folder.
 */
export function checkDataset(ds: Dataset): Dataset {
  for (const [what, s] of [['training split', ds.train], ['test split', ds.test]] as const) {
    if (s.n === 0) throw new DataError(s.source, `the ${what} has no images`);
    if (!(s.c >= 1 && s.h >= 1 && s.w >= 1)) throw new DataError(s.source, `the ${what}'s images are ${s.c}×${s.h}×${s.w} (channels×height×width): no pixels`);
    if (s.h !== s.w) throw new DataError(s.source, `images are ${s.h}×${s.w} (height×width); the models take square images`);
  }
  const { train, test } = ds;
  if (train.c !== test.c || train.h !== test.h || train.w !== test.w) {
    throw new DataError(test.source, `test images are ${test.c}×${test.h}×${test.w} (channels×height×width) but training images are ${train.c}×${train.h}×${train.w} (${train.source})`);
  }
  return ds;
}

export interface IdxFiles {
  trainImages: NamedBytes;
  trainLabels: NamedBytes;
  testImages: NamedBytes;
  testLabels: NamedBytes;
}

/** An IDX data set from its four files' bytes (raw or gzip). */
export function idxDataset(files: IdxFiles, dir: string, opts: { numClasses?: number; classNames?: string[] } = {}): Dataset {
  const numClasses = opts.numClasses ?? 10;
  const train = idxSplit(files.trainImages, files.trainLabels, numClasses);
  const test = idxSplit(files.testImages, files.testLabels, numClasses);
  const classNames = opts.classNames ?? classNamesFrom('idx', dir, numClasses, null);
  return checkDataset({ format: 'idx', dir, train, test, numClasses, classNames, augmentByDefault: false });
}

/** A CIFAR-10 data set from its training batches (in order) and test batch. */
export function cifar10Dataset(trainFiles: NamedBytes[], testFile: NamedBytes, dir: string, opts: { classNames?: string[] } = {}): Dataset {
  if (trainFiles.length === 0) throw new DataError(dir, 'no CIFAR-10 training batches');
  const train = cifarSplit(trainFiles, 1, 0, 10, 'CIFAR-10');
  const test = cifarSplit([testFile], 1, 0, 10, 'CIFAR-10');
  const classNames = opts.classNames ?? classNamesFrom('cifar10', dir, 10, null);
  return checkDataset({ format: 'cifar10', dir, train, test, numClasses: 10, classNames, augmentByDefault: true });
}

/** A CIFAR-100 data set from train.bin and test.bin, with fine (100) or coarse (20) labels. */
export function cifar100Dataset(trainFile: NamedBytes, testFile: NamedBytes, dir: string, opts: { cifar100Labels?: 'fine' | 'coarse'; classNames?: string[] } = {}): Dataset {
  const coarse = opts.cifar100Labels === 'coarse';
  const numClasses = coarse ? 20 : 100;
  const train = cifarSplit([trainFile], 2, coarse ? 0 : 1, numClasses, 'CIFAR-100');
  const test = cifarSplit([testFile], 2, coarse ? 0 : 1, numClasses, 'CIFAR-100');
  const classNames = opts.classNames ?? classNamesFrom('cifar100', dir, numClasses, null);
  return checkDataset({ format: 'cifar100', dir, train, test, numClasses, classNames, augmentByDefault: true });
}
