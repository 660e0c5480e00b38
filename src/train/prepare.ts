// The data of a run or an evaluation: the data set read from its folder, the optional image
// limits, and the normalisation (given, or the training split's channel statistics), each
// checked before any GPU work: the splits as checkDataset wants them (non-empty, square, train
// and test alike; also splits a caller prepared or cut down), and a normalisation of one finite
// mean and positive std per channel (a wrong one names where it came from: --mean/--std or the
// checkpoint).
import { loadDataset, Dataset, LoadOptions } from '../data/dataset.js';
import { checkDataset } from '../data/assemble.js';
import { Split, SubsetSplit } from '../data/split.js';
import { channelStats, Normalization } from '../data/loader.js';
import { DataError } from '../data/errors.js';
import { ArgError } from '../errors.js';
import { hostFiles } from '../platform/files.js';

export interface PrepareOptions extends LoadOptions {
  data: string;
  trainLimit?: number;
  testLimit?: number;
  norm?: Normalization;
  /** the file `norm` was read from (a checkpoint); unset: --mean/--std gave it */
  normFrom?: string;
}

/**
 * A normalisation for images of `channels` channels: one finite mean and positive std each.
 * `from` is the file it came from (a DataError naming it), '--mean/--std' (an ArgError), or
 * undefined for statistics computed from the data at `dir`.
 */
export function checkNormalization(norm: Normalization, channels: number, dir: string, from?: string, cmd = 'train'): void {
  const fail = (what: string): never => {
    if (from === '--mean/--std') throw new ArgError(`focusnet ${cmd}: --mean/--std: ${what}`);
    if (from) throw new DataError(from, `metadata field 'norm': ${what}`);
    throw new DataError(dir, `the normalisation computed from the training split: ${what}`);
  };
  if (norm.mean.length !== channels || norm.std.length !== channels) {
    fail(`has ${norm.mean.length} mean and ${norm.std.length} std values, the images of ${dir} have ${channels} channel${channels === 1 ? '' : 's'}`);
  }
  if (!norm.mean.every(Number.isFinite) || !norm.std.every((s) => Number.isFinite(s) && s > 0)) fail(`mean [${norm.mean}] std [${norm.std}] are not finite numbers with std > 0`);
}

/** The data set's splits (the limits applied) as checkDataset wants them. */
export function checkSplits(ds: Dataset, train: Split, test: Split): void {
  checkDataset({ ...ds, train, test });
}

/** Prepare the data set (readers, limits, normalisation) the way train and eval both need. */
export function prepareData(o: PrepareOptions, cmd = 'train') {
  hostFiles('train.prepareData');
  const ds = loadDataset(o.data, o);
  const train = o.trainLimit && o.trainLimit < ds.train.n ? new SubsetSplit(ds.train, o.trainLimit) : ds.train;
  const test = o.testLimit && o.testLimit < ds.test.n ? new SubsetSplit(ds.test, o.testLimit) : ds.test;
  checkSplits(ds, train, test);
  const norm = o.norm ?? channelStats(train);
  checkNormalization(norm, train.c, o.data, o.norm ? (o.normFrom ?? '--mean/--std') : undefined, cmd);
  return { ds, train, test, norm };
}

export type PreparedData = ReturnType<typeof prepareData>;
