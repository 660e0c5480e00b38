// The `tuning` namespace: the knobs that choose among kernel variants per adapter and shape, for
// benchmarks, experiments and users who measure their own GPU. Defaults are measured
// (bench/RESULTS.md); nothing here changes results beyond floating-point summation order.
export {
  setMatmulVariant, matmulVariant, defaultMatmulVariant, MATMUL_VARIANTS, availableMatmulVariants, subgroupMatmulSupported,
  autotuneMatmul, matmulTuning, clearMatmulTuning, matmulBucket,
} from './ops/matmul.js';
export type { MatmulVariant, MatmulBucket, MatmulTuneEntry, MatmulTuneResult, AutotuneOptions } from './ops/matmul.js';
export {
  convTuning, convPath, candidatePaths, defaultConvPath, CONV_PATHS, TILE_CONFIGS,
  autotuneConv, convShapesOf, convTuningTable, clearConvTuning, convBucket,
} from './ops/conv.js';
export type { ConvPath, ConvDirection, TileConfig, ConvAutotuneOptions, ConvTuneEntry, ConvTuneResult } from './ops/conv.js';
/** vec4 width and vec4s per invocation of the elementwise kernels and buffer utilities */
export { vectorTuning } from './gpu/index.js';
