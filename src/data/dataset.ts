// `loadDataset` and `detectFormat` (node/load.ts, reading folders) and the data-set types
// (assemble.ts), at the path src/train and src/viz import them from. New code imports
// ./node/load.js (files) or ./assemble.js / ./core.js (bytes) instead.
export { loadDataset, detectFormat } from './node/load.js';
export type { Dataset, DataFormat, LoadOptions } from './assemble.js';
