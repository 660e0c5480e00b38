// The data of a run or an evaluation: the data set read from its folder, the optional image
// limits, and the normalisation (given, or the training split's channel statistics).
import { loadDataset, LoadOptions } from '../data/dataset.js';
import { SubsetSplit } from '../data/split.js';
import { channelStats, Normalization } from '../data/loader.js';
import { DataError } from '../data/errors.js';
import { hostFiles } from '../platform/files.js';

/** Prepare the data set (readers, limits, normalisation) the way train and eval both need. */
export function prepareData(o: { data: string; trainLimit?: number; testLimit?: number; norm?: Normalization } & LoadOptions) {
  hostFiles('train.prepareData');
  const ds = loadDataset(o.data, o);
  const train = o.trainLimit && o.trainLimit < ds.train.n ? new SubsetSplit(ds.train, o.trainLimit) : ds.train;
  const test = o.testLimit && o.testLimit < ds.test.n ? new SubsetSplit(ds.test, o.testLimit) : ds.test;
  const norm = o.norm ?? channelStats(train);
  if (norm.mean.length !== train.c || norm.std.length !== train.c) throw new DataError(o.data, `normalisation has ${norm.mean.length} channels, the images have ${train.c}`);
  return { ds, train, test, norm };
}

export type PreparedData = ReturnType<typeof prepareData>;
