// Node side: `loadDataset` and `detectFormat` (node/load.ts) and the data-set types
// (assemble.ts), at the path src/train and src/viz import them from. New code imports
// ./node/load.js (Node) or ./assemble.js / ./core.js (platform-free) instead.
export { loadDataset, detectFormat } from './node/load.js';
export type { Dataset, DataFormat, LoadOptions } from './assemble.js';
