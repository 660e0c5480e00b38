// The Node host: Dawn's WebGPU bindings (npm `webgpu`), environment variables. Imported only
// by the Node entry point (src/index.ts); nothing platform-free imports it.

import { create, globals } from 'webgpu';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NODE_HINT } from '../errors.js';
import { setPlatform } from './platform.js';

let instance: GPU | null = null;
let gc: (() => void) | null = null;

/** V8's gc: the global one under --expose-gc, else taken from a context made with the flag on. */
function v8gc(): () => void {
  const global = (globalThis as { gc?: () => void }).gc;
  if (typeof global === 'function') return global;
  setFlagsFromString('--expose-gc');
  const f = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  return f;
}

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
  collectGarbage() {
    (gc ??= v8gc())();
  },
});
