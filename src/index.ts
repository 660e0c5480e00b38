// focusnet: a WebGPU tensor engine with hand-written WGSL kernels, and the FocusNet method.
import './autograd/tape.js';
import * as ops from './ops/index.js';
import * as optim from './optim/index.js';
import * as losses from './losses/index.js';
import * as nn from './nn/index.js';
import * as models from './models/index.js';
import * as io from './io/index.js';
import * as data from './data/index.js';
import * as train from './train/index.js';
import * as viz from './viz/index.js';
import * as experiment from './experiment/index.js';

export { init, shutdown, gpu, hasGpu, Gpu, grid } from './gpu/device.js';
export type { AdapterInfo, InitOptions, DispatchDesc, BufferSlice } from './gpu/device.js';
export { FocusnetError, NoAdapterError, ShaderCompileError, GpuError, OpError } from './gpu/errors.js';
export { registerKernel } from './gpu/kernels.js';
export { instantiate } from './gpu/template.js';
export { Tensor, tensor, empty, zeros, ones, full, scope, keep, numel } from './tensor/tensor.js';
export type { DType, Shape, TensorOptions } from './tensor/tensor.js';
export { noGrad, isGradEnabled, record, needsGrad } from './autograd/tape.js';
export { ops, optim, losses, nn, models, io, data, train, viz, experiment };
