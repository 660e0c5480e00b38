// The `data` namespace: readers (IDX, CIFAR binary, image folders), batching and augmentation.
export { DataError } from './errors.js';
// data.Rng: the seeded data stream (sfc32, state saved and restored); see src/util/rng.ts.
export { Sfc32 as Rng, deriveSeed, withSeededRandom } from '../util/rng.js';
export type { RngState } from '../util/rng.js';
export { MemorySplit, SubsetSplit, checkSplitLabels } from './split.js';
export type { Split } from './split.js';
export { readIdx, parseIdx, readMaybeGzip } from './idx.js';
export type { IdxArray } from './idx.js';
export { readCifarFiles } from './cifar.js';
export { decodeImage, resizeCenterCrop } from './images.js';
export type { Rgb } from './images.js';
export { FolderSplit } from './folder.js';
export { loadDataset, detectFormat } from './dataset.js';
export { classNamesFor, FASHION_MNIST_CLASSES, CIFAR10_CLASSES } from './classes.js';
export type { Dataset, DataFormat, LoadOptions } from './dataset.js';
export { Loader, channelStats } from './loader.js';
export type { LoaderOptions, HostBatch, Normalization } from './loader.js';
