// The gpu layer: device acquisition, the Gpu (pipelines, batching, errors, profiling, data
// movement), kernel registry and parameter blocks, buffer pool and buffer utilities.
export { init, shutdown, gpu, hasGpu, deviceGeneration } from './acquire.js';
export type { InitOptions } from './acquire.js';
export { Gpu } from './gpu.js';
export type { AdapterInfo } from './gpu.js';
export type { BufferSlice, DispatchDesc } from './batch.js';
export { registerKernel, hasKernel, kernelByName, allKernels } from './kernels.js';
export type { Kernel, KernelSpec } from './kernels.js';
export { paramBlock, ParamBlock, PARAM_SLOT_BYTES } from './params.js';
export type { ParamFields, ParamType, ParamValues } from './params.js';
export { instantiate } from './template.js';
export { grid } from './grid.js';
export { fillBuffer, accumulateBuffer, addBuffers, copyBuffer, markNonFinite, vectorTuning, vec4Grid } from './buffers.js';
export { BufferPool, sizeClass } from './pool.js';
export type { PoolStats } from './pool.js';
