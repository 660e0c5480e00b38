// The Node host: Dawn's WebGPU bindings (npm `webgpu`), environment variables, node:fs
// (node-files.ts), node:path and stderr with cli-progress (node-terminal.ts). Imported only
// by the Node entry point (src/index.ts) and the CLI; nothing platform-free imports it.

import { basename, dirname, join, relative, resolve } from 'node:path';
import { create, globals } from 'webgpu';
import { NODE_HINT } from '../errors.js';
import { setPlatform } from './platform.js';
import { nodeFiles } from './node-files.js';
import { nodeTerminal } from './node-terminal.js';

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
  files: nodeFiles,
  noFilesHint: () => '',
  paths: { join, dirname, basename, resolve, relative },
  terminal: nodeTerminal,
});
