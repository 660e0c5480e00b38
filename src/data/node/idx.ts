// File access (see files.ts): IDX and CIFAR files read from disk, for callers that
// want one file rather than a data set (loadDataset reads whole folders).
import { IdxArray, decodeIdx } from '../idx.js';
import { maybeGunzip } from '../gzip.js';
import { cifarSplit } from '../cifar.js';
import { MemorySplit } from '../split.js';
import { hostFiles } from '../../platform/files.js';
import { readDataFile } from './files.js';

/** Read a whole file, gunzipping it when it starts with the gzip magic. */
export function readMaybeGzip(path: string): Uint8Array {
  hostFiles('data.readMaybeGzip');
  return maybeGunzip(readDataFile(path), path);
}

export function readIdx(path: string): IdxArray {
  hostFiles('data.readIdx');
  return decodeIdx({ name: path, bytes: readDataFile(path) });
}

export function readCifarFiles(paths: string[], labelBytes: 1 | 2, labelIndex: number, numClasses: number, what: string): MemorySplit {
  hostFiles('data.readCifarFiles');
  return cifarSplit(paths.map((p) => ({ name: p, bytes: readDataFile(p) })), labelBytes, labelIndex, numClasses, what);
}
