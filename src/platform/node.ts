// The Node host: Dawn's WebGPU bindings (npm `webgpu`), environment variables, node:fs
// (node-files.ts), node:path and stderr with cli-progress (node-terminal.ts). Imported only
// by the Node entry point (src/index.ts) and the CLI; nothing platform-free imports it.

import { basename, dirname, join, relative, resolve } from 'node:path';
import { create, globals } from 'webgpu';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NODE_HINT } from '../errors.js';
import { setPlatform } from './platform.js';
import { nodeFiles } from './node-files.js';
import { nodeTerminal } from './node-terminal.js';

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

/**
 * Dawn's toggles focusnet turns on: `vulkan_enable_f16_on_nvidia`, without which Dawn hides the
 * adapter feature 'shader-f16' on NVIDIA's Vulkan driver (mixed precision needs it; other
 * adapters ignore the toggle). Dawn's node binding hands `enable-dawn-features=` to the instance
 * and to every requestAdapter() as the adapter's toggles.
 */
const DAWN_TOGGLES = ['vulkan_enable_f16_on_nvidia'];

/** `flags` (FOCUSNET_DAWN_FLAGS) with DAWN_TOGGLES added to their one enable-dawn-features entry, unless disabled there. */
export function dawnFlags(flags: readonly string[]): string[] {
  const out = [...flags];
  const list = (prefix: string) => out.filter((f) => f.startsWith(prefix)).flatMap((f) => f.slice(prefix.length).split(',')).filter(Boolean);
  const disabled = new Set(list('disable-dawn-features='));
  const enabled = list('enable-dawn-features=');
  const add = DAWN_TOGGLES.filter((t) => !disabled.has(t) && !enabled.includes(t));
  if (!add.length) return out;
  return [...out.filter((f) => !f.startsWith('enable-dawn-features=')), `enable-dawn-features=${[...enabled, ...add].join(',')}`];
}

setPlatform({
  name: 'node',
  webgpu(flags) {
    // Dawn's GPUBufferUsage, GPUMapMode, ... constants, as a page has them
    Object.assign(globalThis, globals);
    // Dawn's instance lives as long as this object is referenced: hold it (until shutdown)
    instance = create(dawnFlags(flags));
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
  collectGarbage() {
    (gc ??= v8gc())();
  },
});
