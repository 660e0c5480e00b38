// Adapter and device acquisition: `init()` takes the host's WebGPU entry point (Dawn in Node,
// navigator.gpu in a page, or any `GPU` object passed as `init({ gpu })`), asks for a
// high-performance adapter (a hardware GPU where there is one, else the software one),
// requests a device with the adapter's real limits and the features the kernels use, and
// compiles every registered kernel. One `Gpu` per process: `gpu()` returns it, `shutdown()`
// releases it.

import { NoAdapterError, FocusnetError } from '../errors.js';
import { platform } from '../platform/platform.js';
import { Gpu, AdapterInfo } from './gpu.js';

export interface InitOptions {
  /** a WebGPU entry point to use instead of the host's (navigator.gpu, Dawn's) */
  gpu?: GPU;
  /** 'high-performance' (default) or 'low-power' */
  powerPreference?: GPUPowerPreference;
  /** force the software adapter even where a GPU exists */
  forceFallbackAdapter?: boolean;
  /** one error scope per dispatch so errors name the exact kernel (slow; also FOCUSNET_CHECK=1) */
  checkEachDispatch?: boolean;
}

let current: Gpu | null = null;
let pending: Promise<Gpu> | null = null;
/** the options of the init() that made (or is making) the current device */
let currentOptions: InitOptions = {};
/**
 * Bumped by every init() and every shutdown(): a storage remembers the generation it was made in,
 * so a tensor from before a shutdown() is refused (ops, read(), backward, the optimizer), with or
 * without a later init().
 */
let generation = 0;
let released = false;

/** The initialized GPU; throws if `init()` has not completed. */
export function gpu(): Gpu {
  if (!current) {
    throw new FocusnetError(
      released
        ? 'focusnet: the GPU device was released by shutdown(); call `await init()` again before creating tensors (tensors made before shutdown() are gone with it)'
        : 'focusnet: call `await init()` before creating tensors',
    );
  }
  return current;
}

export function hasGpu(): boolean {
  return current !== null;
}

/** Which init() made the current device (0 before the first). */
export function deviceGeneration(): number {
  return generation;
}

const OPTION_NAMES: readonly (keyof InitOptions)[] = ['gpu', 'powerPreference', 'forceFallbackAdapter', 'checkEachDispatch'];

/**
 * A second init() while a device exists (or is being made) returns it, unless it asks for
 * something else: an option given (not undefined) that differs from the first call's is refused,
 * since the device cannot change under tensors that already live on it.
 */
function checkSameOptions(opts: InitOptions): void {
  const first = effective(currentOptions);
  for (const k of OPTION_NAMES) {
    const want = opts[k];
    if (want === undefined) continue;
    const have = first[k];
    if (want === have) continue;
    const show = (v: unknown) => (k === 'gpu' ? (v === undefined ? "the host's" : 'another GPU object') : v === undefined ? 'not set' : JSON.stringify(v));
    const hint = k === 'checkEachDispatch' ? ' (or set `gpu().checkEachDispatch` at any time)' : '';
    throw new FocusnetError(
      `init: the GPU is already initialized with ${k} ${show(have)}, and this call asks for ${show(want)}; ` +
        `call \`await shutdown()\` first to get a device with other options${hint}, or call init() without them to get the current one`,
    );
  }
}

/** The options with their defaults filled in (what a device made with them has). */
function effective(o: InitOptions): InitOptions {
  return {
    gpu: o.gpu,
    powerPreference: o.powerPreference ?? 'high-performance',
    forceFallbackAdapter: o.forceFallbackAdapter ?? false,
    checkEachDispatch: o.checkEachDispatch ?? platform().env('FOCUSNET_CHECK') === '1',
  };
}

/** Acquire the best adapter (a hardware GPU if present, else the software one) and compile kernels. */
export function init(opts: InitOptions = {}): Promise<Gpu> {
  try {
    if (typeof opts !== 'object' || opts === null) throw new FocusnetError(`init: options must be an object, got ${opts === null ? 'null' : typeof opts}`);
    const unknown = Object.keys(opts).filter((k) => !OPTION_NAMES.includes(k as keyof InitOptions));
    if (unknown.length) throw new FocusnetError(`init: unknown option '${unknown[0]}'; options: ${OPTION_NAMES.join(', ')}`);
    if (current || pending) checkSameOptions(opts);
  } catch (e) {
    return Promise.reject(e);
  }
  if (current) return Promise.resolve(current);
  if (!pending) {
    currentOptions = { ...opts };
    pending = acquire(opts).then(
      (g) => {
        generation++;
        released = false;
        return (current = g);
      },
      (e) => {
        pending = null;
        throw e;
      },
    );
  }
  return pending;
}

/** Wait for the queue, destroy the device and let go of the WebGPU instance. */
export async function shutdown(): Promise<void> {
  if (pending) await pending.catch(() => undefined);
  if (current) {
    try {
      await current.sync();
    } catch {
      /* errors were reported to their callers */
    }
    current.destroy();
    // every storage of this device is dead from now on (refused, and releasing one is a no-op)
    generation++;
    released = true;
  }
  current = null;
  pending = null;
  currentOptions = {};
  platform().release();
}

async function acquire(opts: InitOptions): Promise<Gpu> {
  const host = platform();
  let entry: GPU | null;
  try {
    entry = opts.gpu ?? host.webgpu(host.env('FOCUSNET_DAWN_FLAGS')?.split(' ').filter(Boolean) ?? []);
  } catch (e) {
    throw new NoAdapterError(`the WebGPU implementation failed to load: ${(e as Error).message}`, host.noAdapterHint);
  }
  if (!entry) throw new NoAdapterError(host.name === 'browser' ? 'this browser has no navigator.gpu' : 'no WebGPU implementation', host.noAdapterHint);
  const adapter = await entry.requestAdapter({
    powerPreference: opts.powerPreference ?? 'high-performance',
    forceFallbackAdapter: opts.forceFallbackAdapter ?? false,
  });
  if (!adapter) throw new NoAdapterError('requestAdapter() returned null', host.noAdapterHint);
  const ai = adapter.info;
  const isSoftware =
    (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    (ai as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    ai.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader|software/i.test(`${ai.description} ${ai.device} ${ai.architecture}`);
  const info: AdapterInfo = {
    vendor: ai.vendor,
    architecture: ai.architecture,
    description: ai.description,
    device: ai.device,
    isSoftware,
    backend: (ai as unknown as { backend?: string }).backend ?? host.backend,
  };
  const L = adapter.limits;
  const wanted: Record<string, number> = {
    maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
    maxBufferSize: L.maxBufferSize,
    maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: L.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupsPerDimension: L.maxComputeWorkgroupsPerDimension,
  };
  const requiredFeatures: GPUFeatureName[] = [];
  // shader-f16: the f16 kernels of mixed precision (src/amp); Dawn offers it on NVIDIA's Vulkan
  // driver only with the adapter toggle vulkan_enable_f16_on_nvidia (src/platform/node.ts)
  // FOCUSNET_DISABLE_FEATURES=shader-f16,subgroups: leave features out as if the adapter lacked
  // them (to check what runs without them, e.g. --precision mixed's error)
  const disabled = new Set((host.env('FOCUSNET_DISABLE_FEATURES') ?? '').split(',').map((f) => f.trim()).filter(Boolean));
  for (const f of ['timestamp-query', 'subgroups', 'shader-f16']) {
    if (adapter.features.has(f as GPUFeatureName) && !disabled.has(f)) requiredFeatures.push(f as GPUFeatureName);
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: wanted, requiredFeatures });
  } catch (e) {
    throw new NoAdapterError(`requestDevice() failed: ${(e as Error).message}`, host.noAdapterHint);
  }
  const g = new Gpu(adapter, device, info);
  g.checkEachDispatch = opts.checkEachDispatch ?? host.env('FOCUSNET_CHECK') === '1';
  await g.compileAll();
  return g;
}
