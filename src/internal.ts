// The `internal` namespace: the engine's building blocks below the public ops, for writing new
// kernels and ops outside the package, for tests and benchmarks. No stability promise: names and
// signatures follow the engine's needs.
//   kernels   registerKernel, paramBlock, instantiate, grid (see docs/architecture.md)
//   autograd  record, needsGrad, isUnitSeed
//   launchers the raw (no autograd) forward/backward launchers the ops are built on
//   memory    looseStats (bytes of tensors no scope owns, collections asked for: src/tensor/loose.ts)
export { registerKernel, paramBlock, instantiate, grid } from './gpu/index.js';
export { Storage, looseStats, settleGarbage } from './tensor/index.js';
export type { Kernel, KernelSpec, ParamBlock, ParamFields, ParamValues, BufferSlice, DispatchDesc } from './gpu/index.js';
export { record, needsGrad, isUnitSeed } from './autograd/tape.js';
export { unaryBackward, binaryRaw } from './ops/elementwise.js';
export { sumTo } from './ops/reduce.js';
export { castRaw } from './ops/cast.js';
export { matmulRaw, transposeRaw } from './ops/matmul.js';
export type { MatmulRawOptions } from './ops/matmul.js';
export { conv2dForward, conv2dInputGrad, conv2dWeightGrad, conv2dBiasGrad, conv2dGeometry } from './ops/conv.js';
export type { ConvGeom } from './ops/conv.js';
