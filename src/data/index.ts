// The `data` namespace: readers (IDX, CIFAR binary, image folders), batching and
// augmentation. Everything on bytes comes from core.ts (see its header for the
// convention); the file access on top of it from node/.
export * from './core.js';
export { readIdx, readMaybeGzip, readCifarFiles } from './node/idx.js';
export { decodeImage } from './node/decode.js';
export { FolderSplit } from './node/folder.js';
export { loadDataset, detectFormat } from './node/load.js';
export { classNamesFor } from './node/classes.js';
