// The test split of a data set for `focusnet cam` and `focusnet report`, read by the
// trainer's own readers (src/data): the same format detection, decoding, resize + center
// crop, labels and class names; the trainer's default normalisation (channelStats of the
// training split); and model inputs built by data's Loader, unshuffled and unaugmented,
// as the trainer's evaluation builds them.

import { hostFiles } from '../platform/files.js';
import { loadDataset, DataFormat } from '../data/dataset.js';
import { Loader, channelStats, Normalization } from '../data/loader.js';
import { DataError } from '../data/errors.js';
import { VizInputError } from './errors.js';

export interface TestImage {
  /** planes [C, H, W], values in [0, 1] (for display) */
  pixels: Float32Array;
  channels: number;
  height: number;
  width: number;
  label: number;
}

export interface DataSet {
  format: DataFormat;
  dir: string;
  classes: string[];
  testCount: number;
  /** labels of the test split */
  labels: Int32Array;
  image(i: number): TestImage;
  /** test images in batches of `batchSize`, normalised by `norm`: batch(k).x is [size, C, H, W] */
  loader(norm: Normalization, batchSize: number): Loader;
  /** per-channel mean and std of the training split (the trainer's default normalisation) */
  stats(): Normalization;
}

/** Open a data folder as the trainer does; bad data is a VizInputError naming the file. */
export function openDataSet(dir: string, opts: { imageSize?: number } = {}): DataSet {
  const fs = hostFiles('viz.openDataSet');
  if (!fs.exists(dir) || !fs.stat(dir).isDirectory()) throw new VizInputError(`--data: ${dir} is not a folder`);
  let ds;
  try {
    ds = loadDataset(dir, { imageSize: opts.imageSize });
  } catch (e) {
    if (e instanceof DataError) throw new VizInputError(`--data: ${e.message}`);
    throw e;
  }
  const { test, train } = ds;
  if (test.n === 0) throw new VizInputError(`--data: the test split in ${dir} is empty`);
  const bytes = new Uint8Array(test.c * test.h * test.w);
  let stats: Normalization | undefined;
  return {
    format: ds.format,
    dir,
    classes: ds.classNames,
    testCount: test.n,
    labels: test.labels,
    image(i) {
      test.readImage(i, bytes, 0);
      const pixels = Float32Array.from(bytes, (v) => v / 255);
      return { pixels, channels: test.c, height: test.h, width: test.w, label: test.labels[i] };
    },
    loader: (norm, batchSize) => new Loader(test, { batchSize, shuffle: false, norm }),
    stats: () => (stats ??= channelStats(train)),
  };
}
