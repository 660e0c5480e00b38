// The public API of focusnet, platform-free: what `import { ... } from 'focusnet'` gives in Node
// and in a page (each entry point installs its platform first, then re-exports this module).
// Every name is listed here explicitly; the engine's building blocks are under `internal`, the
// variant-choosing knobs under `tuning`.
import { installEngine } from './tensor/index.js';
import { backward } from './autograd/tape.js';
import { reshape } from './ops/indexing.js';
import * as ops from './ops/index.js';
import * as optim from './optim/index.js';
import * as amp from './amp/index.js';
import * as losses from './losses/index.js';
import * as nn from './nn/index.js';
import * as models from './models/index.js';
import * as io from './io/index.js';
import * as data from './data/index.js';
import * as train from './train/index.js';
import * as viz from './viz/index.js';
import * as experiment from './experiment/index.js';
import * as tuning from './tuning.js';
import * as internal from './internal.js';

// the one hook between the tensor layer and the layers above it (docs/architecture.md)
installEngine({ backward, reshape });

export { init, shutdown, gpu, hasGpu, Gpu } from './gpu/index.js';
export type { AdapterInfo, InitOptions, PoolStats } from './gpu/index.js';
export { FocusnetError, NoAdapterError, ShaderCompileError, GpuError, OpError, InputError, ArgError, DataError } from './errors.js';
export { Tensor, tensor, empty, zeros, ones, full, scope, keep, numel } from './tensor/index.js';
export type { DType, Shape, TensorOptions } from './tensor/index.js';
export { noGrad, isGradEnabled } from './autograd/tape.js';
export { gradcheck, GradcheckError } from './autograd/gradcheck.js';
export type { GradcheckOptions } from './autograd/gradcheck.js';
export { ops, optim, amp, losses, nn, models, io, data, train, viz, experiment, tuning, internal };
