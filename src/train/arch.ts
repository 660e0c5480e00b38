// The trainer's architectures are the registry's (src/models/registry.ts): this module only
// keeps the import path `train/arch` (src/experiment and older callers use it).
export { ARCHS, ArchError, createModel, smallInputFor } from '../models/registry.js';
export type { ArchName, ArchOptions } from '../models/registry.js';
export { Mlp } from '../models/mlp.js';
