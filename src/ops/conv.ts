// 2-D convolution (PyTorch's conv2d): NCHW input, OIHW weight [Cout, Cin/groups, KH, KW],
// optional bias [Cout], stride, zero padding, groups (depthwise included), and a fused
// bias + activation epilogue ('none' | 'relu' | 'relu6'). One job per file under conv/:
//   conv/geometry.ts  argument checks and the geometry of one convolution (ConvGeom)
//   conv/policy.ts    convTuning and the per-adapter rules that pick a path and block shapes
//   conv/launch.ts    the launchers without autograd: run the path policy.ts picks
//   conv/direct.ts    the direct kernels: forward, input / weight / bias gradient, depthwise
//   conv/tiled.ts     the workgroup-tiled implicit GEMM (one tile loop, three directions)
//   conv/lowering.ts  1×1 as matmuls, dense convolutions through im2col onto matmulRaw
//   conv/tune-table.ts, conv/tune.ts  the per-adapter autotune table and the harness that fills it
//   conv/variants.ts  kernel variants, registered on first use
//   conv/conv2d.ts    the differentiable op
// Algorithm choices and measurements: docs/conv.md.

export { conv2d } from './conv/conv2d.js';
export type { Conv2dOptions } from './conv/conv2d.js';
export { convTuning, convPath, candidatePaths, defaultConvPath, CONV_PATHS } from './conv/policy.js';
export type { ConvPath, ConvDirection } from './conv/policy.js';
export { TILE_CONFIGS } from './conv/tiled.js';
export type { TileConfig } from './conv/tiled.js';
export { autotuneConv, convShapesOf } from './conv/tune.js';
export type { ConvAutotuneOptions } from './conv/tune.js';
export { convTuningTable, clearConvTuning, convBucket } from './conv/tune-table.js';
export type { ConvTuneEntry, ConvTuneResult } from './conv/tune-table.js';
export { conv2dForward, conv2dInputGrad, conv2dWeightGrad, conv2dBiasGrad } from './conv/launch.js';
export { conv2dGeometry } from './conv/geometry.js';
export type { ConvGeom } from './conv/geometry.js';
