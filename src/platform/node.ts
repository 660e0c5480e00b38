// The Node host: Dawn's WebGPU bindings (npm `webgpu`), environment variables. Imported only
// by the Node entry point (src/index.ts); nothing platform-free imports it.

import { create, globals } from 'webgpu';
import { NODE_HINT } from '../errors.js';
import { setPlatform } from './platform.js';

let instance: GPU | null = null;

setPlatform({
  name: 'node',
  webgpu(flags) {
    // Dawn's GPUBufferUsage, GPUMapMode, ... constants, as a page has them
    Object.assign(globalThis, globals);
    // Dawn's instance lives as long as this object is referenced: hold it (until shutdown)
    instance = create([...flags]);
    return instance;
  },
  noAdapterHint: NODE_HINT,
  backend: ({ linux: 'vulkan', darwin: 'metal', win32: 'd3d12' } as Record<string, string>)[process.platform] ?? 'unknown',
  env: (name) => process.env[name],
  release() {
    instance = null;
  },
});
