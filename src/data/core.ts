// The platform-free part of the data layer: what a web page can import as well as Node.
//
// Convention for src/data: every file under src/data/node/ reads files (through the platform
// seam, src/platform/files.ts: Node's file system; in a page an InputError saying what to use
// instead); every other file works on bytes and imports nothing of ./node/, except two entry
// points that gather node/ code: index.ts (the library's `data` namespace) and dataset.ts
// (loadDataset at its old path). No file of src/data imports a Node built-in or uses
// `Buffer` or `process` (test/data-platform.test.mjs scans the imports and bundles this file
// for a browser; test/browser-bundle.test.mjs checks the whole library). Parsers and decoders
// take Uint8Array, so a page parses a fetched file with the same code and the same checks.
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
export { decodePng, encodePng } from './png.js';
export type { Rgba } from './png.js';
export { decodeImageBytes } from './decode.js';
export { resizeCenterCrop } from './resize.js';
export type { Rgb } from './resize.js';
export { checkDataset, idxDataset, cifar10Dataset, cifar100Dataset, DEFAULT_MAX_SPLIT_BYTES } from './assemble.js';
export type { Dataset, DataFormat, LoadOptions, IdxFiles } from './assemble.js';
export { classNamesFrom, classMetaFile, FASHION_MNIST_CLASSES, CIFAR10_CLASSES } from './classes.js';
export { fingerprint, fingerprintMismatch, FINGERPRINT_SAMPLES } from './fingerprint.js';
export type { DataFingerprint } from './fingerprint.js';
export { Loader, channelStats } from './loader.js';
export type { LoaderOptions, HostBatch, Normalization } from './loader.js';
