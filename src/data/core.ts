// The platform-free part of the data layer: what a web page can import as well as Node.
//
// Convention for src/data: every file under src/data/node/ is Node-only (file access:
// reading files, listing folders, decoding PNG with pngjs); every other file in src/data
// is platform-free (no Node built-in, no `Buffer`, no `process`, no import of ./node/)
// except two Node-side entry points that gather node/ code: index.ts (the library's
// `data` namespace) and dataset.ts (loadDataset at its old path). Parsers take
// Uint8Array, so a page parses a fetched file with the same code and the same checks
// (test/data-platform.test.mjs scans the imports and bundles this file for a browser).
export { DataError, formatBytes } from './errors.js';
export { Sfc32 as Rng, deriveSeed, withSeededRandom } from '../util/rng.js';
export type { RngState } from '../util/rng.js';
export { MemorySplit, SubsetSplit, checkSplitLabels } from './split.js';
export type { Split } from './split.js';
export { parseIdx, decodeIdx, idxSplit } from './idx.js';
export type { IdxArray, NamedBytes } from './idx.js';
export { cifarSplit } from './cifar.js';
export { gunzip, maybeGunzip, isGzip, crc32, MAX_GUNZIP_BYTES } from './gzip.js';
export { imageHeader, DEFAULT_IMAGE_LIMITS } from './image-header.js';
export type { ImageHeader, ImageLimits } from './image-header.js';
export { checkPngData, pngDataSize } from './png-data.js';
export { resizeCenterCrop } from './resize.js';
export type { Rgb } from './resize.js';
export { checkDataset, idxDataset, cifar10Dataset, cifar100Dataset, DEFAULT_MAX_SPLIT_BYTES } from './assemble.js';
export type { Dataset, DataFormat, LoadOptions, IdxFiles } from './assemble.js';
export { classNamesFrom, classMetaFile, FASHION_MNIST_CLASSES, CIFAR10_CLASSES } from './classes.js';
export { fingerprint, fingerprintMismatch, FINGERPRINT_SAMPLES } from './fingerprint.js';
export type { DataFingerprint } from './fingerprint.js';
export { Loader, channelStats } from './loader.js';
export type { LoaderOptions, HostBatch, Normalization } from './loader.js';
