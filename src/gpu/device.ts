// Adapter and device acquisition, pipeline cache, command batching, uniform
// staging, error surfacing, readback. One `Gpu` per process (see `init`).
//
// Batching: dispatches go into one open compute pass; the batch is submitted
// when a readback needs it, when the uniform staging area is full, or on
// `flush()`. Uniforms of every dispatch in a batch live in one staging buffer
// written once per submit (queue order makes reusing it across batches safe).
// Bind groups are cached by pipeline, uniform slot and buffer slices (`counters.bindGroups`
// counts the ones created). Errors: each batch runs inside validation and
// out-of-memory error scopes (each dispatch in its own with `checkEachDispatch` /
// FOCUSNET_CHECK=1); their promises are collected, never awaited per dispatch,
// checked at readback and at `sync()`, and thrown naming the batch's kernels (or the
// exact kernel).

import { create, globals } from 'webgpu';
import { BufferPool, PoolStats } from './pool.js';
import { allKernels, kernelSource } from './kernels.js';
import { GpuError, NoAdapterError, ShaderCompileError } from './errors.js';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  isSoftware: boolean;
  backend: string;
}

export interface BufferSlice {
  buffer: GPUBuffer;
  /** byte offset, a multiple of 256 */
  offset: number;
  /** bytes, a multiple of 4 */
  size: number;
}

export interface DispatchDesc {
  /** registered kernel module */
  module: string;
  entry?: string;
  /** pipeline-overridable constants; part of the pipeline cache key */
  constants?: Record<string, number>;
  /** kernel name used in error messages; defaults to module:entry */
  label?: string;
  /** storage bindings 1..n of group 0, in order */
  bindings: BufferSlice[];
  /** uniform struct at binding 0: u32 fields first, then i32, then f32 */
  u?: ArrayLike<number>;
  i?: ArrayLike<number>;
  f?: ArrayLike<number>;
  workgroups: [number, number?, number?];
}

export interface InitOptions {
  /** 'high-performance' (default) or 'low-power' */
  powerPreference?: GPUPowerPreference;
  /** force the software adapter even where a GPU exists */
  forceFallbackAdapter?: boolean;
  /** one error scope per dispatch so errors name the exact kernel (slow; also FOCUSNET_CHECK=1) */
  checkEachDispatch?: boolean;
}

const UNIFORM_SLOT = 256;
const UNIFORM_SLOTS = 512;
const MAX_DISPATCHES_PER_BATCH = 512;
/**
 * Released buffers become reusable only after a submit; when this many bytes wait for
 * one, the batch is submitted early so a long run of dispatches without readbacks (a
 * training loop) recycles its intermediates instead of allocating new buffers.
 */
const PENDING_FLUSH_BYTES = 128 * 1024 * 1024;
const BIND_GROUP_CACHE = 8192;

export class Gpu {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly info: AdapterInfo;
  readonly limits: GPUSupportedLimits;
  readonly features: Set<string>;
  readonly pool: BufferPool;
  private readPool: BufferPool;
  private pipelines = new Map<string, GPUComputePipeline>();
  private modules = new Map<string, GPUShaderModule>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniformBuffer: GPUBuffer;
  private uniformStaging = new ArrayBuffer(UNIFORM_SLOT * UNIFORM_SLOTS);
  private uniformU32 = new Uint32Array(this.uniformStaging);
  private uniformI32 = new Int32Array(this.uniformStaging);
  private uniformF32 = new Float32Array(this.uniformStaging);
  private uniformUsed = 0;
  private dispatchesInBatch = 0;
  private errorChecks: Promise<void>[] = [];
  private firstError: Error | null = null;
  /** an error no scope caught (usually the invalid command buffer that follows a scoped one) */
  private uncapturedError: Error | null = null;
  /** a WGSL compile error of a module compiled after init (the root cause of its pipeline's errors) */
  private compileError: Error | null = null;
  private lostReason: string | null = null;
  private batchKernels: string[] = [];
  /** dispatches encoded, submits made, bind groups created (a repeated step should create none) */
  counters = { dispatches: 0, submits: 0, bindGroups: 0 };
  /**
   * Validation errors are caught per batch (one error scope around each submit) and name
   * the batch's kernels. With `checkEachDispatch` (init option, or FOCUSNET_CHECK=1) every
   * dispatch gets its own scope and errors name the exact kernel, at ~50 µs per dispatch.
   */
  checkEachDispatch = false;
  private layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private ids = new WeakMap<object, number>();
  private nextId = 1;
  /** optional per-dispatch hook (profiling) */
  onDispatch: ((label: string) => void) | null = null;

  constructor(adapter: GPUAdapter, device: GPUDevice, info: AdapterInfo) {
    this.adapter = adapter;
    this.device = device;
    this.info = info;
    this.limits = device.limits;
    this.features = new Set([...device.features].map(String));
    const U = GPUBufferUsage;
    this.pool = new BufferPool(device, U.STORAGE | U.COPY_SRC | U.COPY_DST, 'storage');
    this.readPool = new BufferPool(device, U.MAP_READ | U.COPY_DST, 'readback');
    this.uniformBuffer = device.createBuffer({
      size: UNIFORM_SLOT * UNIFORM_SLOTS,
      usage: U.UNIFORM | U.COPY_DST,
      label: 'uniforms',
    });
    device.lost.then((l) => {
      this.lostReason = `${l.reason}: ${l.message}`;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      if (!this.uncapturedError) this.uncapturedError = new GpuError('error', this.batchKernels.join(', ') || '?', ev.error.message);
    };
  }

  // ---- shader modules and pipelines -------------------------------------------------------

  /** Compile every registered kernel module and report WGSL errors with file and line. */
  async compileAll(): Promise<void> {
    for (const src of allKernels()) await this.compileModule(src.name);
  }

  private async compileModule(name: string): Promise<GPUShaderModule> {
    let mod = this.modules.get(name);
    if (mod) return mod;
    const src = kernelSource(name);
    this.device.pushErrorScope('validation');
    mod = this.device.createShaderModule({ code: src.code, label: src.file });
    const info = await mod.getCompilationInfo();
    const err = await this.device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length || err) {
      const lines = errors.map((m) => `${src.file}:${m.lineNum}:${m.linePos}: error: ${m.message}`);
      if (!lines.length && err) lines.push(`${src.file}: ${err.message}`);
      throw new ShaderCompileError(`focusnet: WGSL compile error\n${lines.join('\n')}`);
    }
    this.modules.set(name, mod);
    return mod;
  }

  private moduleSync(name: string): GPUShaderModule {
    let mod = this.modules.get(name);
    if (!mod) {
      // Registered after init (generated code): compile now, errors surface at the next sync.
      const src = kernelSource(name);
      mod = this.device.createShaderModule({ code: src.code, label: src.file });
      this.modules.set(name, mod);
      const m = mod;
      this.errorChecks.push(
        m.getCompilationInfo().then((info) => {
          const errors = info.messages.filter((x) => x.type === 'error');
          if (errors.length && !this.compileError) {
            this.compileError = new ShaderCompileError(
              `focusnet: WGSL compile error\n` +
                errors.map((x) => `${src.file}:${x.lineNum}:${x.linePos}: error: ${x.message}`).join('\n'),
            );
          }
        }),
      );
    }
    return mod;
  }

  pipeline(module: string, entry = 'main', constants?: Record<string, number>): GPUComputePipeline {
    let key = module + '|' + entry;
    if (constants) for (const k of Object.keys(constants).sort()) key += `|${k}=${constants[k]}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({
        layout: 'auto',
        label: `${module}:${entry}`,
        compute: { module: this.moduleSync(module), entryPoint: entry, constants },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  // ---- dispatch and batching --------------------------------------------------------------

  private ensureEncoder(): GPUCommandEncoder {
    if (this.lostReason) throw new GpuError('device lost', this.batchKernels.join(', ') || '-', this.lostReason);
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
    }
    return this.encoder;
  }

  private ensurePass(timestampIndex = -1): GPUComputePassEncoder {
    const encoder = this.ensureEncoder();
    if (!this.pass) {
      this.pass = timestampIndex < 0 || !this.profiler
        ? encoder.beginComputePass()
        : encoder.beginComputePass({ timestampWrites: this.profiler.writes(timestampIndex) });
    }
    return this.pass;
  }

  /** The open command encoder, with no compute pass open (for copies). */
  encoderForCopy(): GPUCommandEncoder {
    const encoder = this.ensureEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return encoder;
  }

  dispatch(d: DispatchDesc): void {
    const label = d.label ?? `${d.module}:${d.entry ?? 'main'}`;
    if (
      this.uniformUsed >= UNIFORM_SLOTS ||
      this.dispatchesInBatch >= MAX_DISPATCHES_PER_BATCH ||
      this.pool.pendingBytes >= PENDING_FLUSH_BYTES
    ) {
      this.flush();
    }
    // profiling: each dispatch runs in its own pass, bracketed by two timestamps
    const prof = this.profiler && this.profiler.labels.length < this.profiler.cap ? this.profiler : null;
    if (prof && this.pass) {
      this.pass.end();
      this.pass = null;
    }
    const pass = this.ensurePass(prof ? prof.labels.length : -1);
    const dev = this.device;
    const checkEach = this.checkEachDispatch;
    if (checkEach) dev.pushErrorScope('validation');
    const pipe = this.pipeline(d.module, d.entry ?? 'main', d.constants);
    const nu = d.u ? d.u.length : 0;
    const ni = d.i ? d.i.length : 0;
    const nf = d.f ? d.f.length : 0;
    let slot = -1;
    if (nu + ni + nf > 0) {
      slot = this.uniformUsed++;
      let o = (slot * UNIFORM_SLOT) / 4;
      for (let k = 0; k < nu; k++) this.uniformU32[o++] = d.u![k];
      for (let k = 0; k < ni; k++) this.uniformI32[o++] = d.i![k];
      for (let k = 0; k < nf; k++) this.uniformF32[o++] = d.f![k];
    }
    // Bind groups are cached by (pipeline, uniform slot, buffers, offsets, sizes): a training
    // step reuses the same pooled buffers in the same order, so steady state hits the cache.
    let key = `${this.objectId(pipe)}|${slot}`;
    for (const b of d.bindings) key += `|${this.objectId(b.buffer)}:${b.offset}:${b.size}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = [];
      if (slot >= 0) entries.push({ binding: 0, resource: { buffer: this.uniformBuffer, offset: slot * UNIFORM_SLOT, size: UNIFORM_SLOT } });
      for (let k = 0; k < d.bindings.length; k++) {
        const b = d.bindings[k];
        entries.push({ binding: k + 1, resource: { buffer: b.buffer, offset: b.offset, size: b.size } });
      }
      let layout = this.layouts.get(pipe);
      if (!layout) this.layouts.set(pipe, (layout = pipe.getBindGroupLayout(0)));
      group = dev.createBindGroup({ layout, entries, label });
      this.counters.bindGroups++;
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
      this.bindGroups.set(key, group);
    }
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    const [x, y = 1, z = 1] = d.workgroups;
    if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
    if (checkEach) this.watch(dev.popErrorScope(), 'validation error', label);
    this.batchKernels.push(label);
    this.dispatchesInBatch++;
    this.counters.dispatches++;
    if (this.onDispatch) this.onDispatch(label);
    if (prof) {
      pass.end();
      this.pass = null;
      prof.labels.push(label);
    }
  }

  // ---- profiling (timestamp queries) ------------------------------------------------------

  private profiler: Profiler | null = null;

  /**
   * Time every following dispatch (up to `maxDispatches`) with timestamp queries; each runs
   * in its own compute pass while profiling. Returns false when the adapter lacks
   * 'timestamp-query'.
   */
  startProfile(maxDispatches = 8192): boolean {
    if (!this.features.has('timestamp-query')) return false;
    this.flush();
    this.profiler?.destroy();
    this.profiler = new Profiler(this.device, maxDispatches);
    return true;
  }

  /** Stop profiling: the kernel label and GPU milliseconds of every timed dispatch, in order. */
  async stopProfile(): Promise<{ label: string; ms: number }[]> {
    const p = this.profiler;
    if (!p) return [];
    this.profiler = null;
    this.flush();
    const n = p.labels.length;
    if (n === 0) {
      p.destroy();
      return [];
    }
    const bytes = 16 * n;
    const U = GPUBufferUsage;
    const resolved = this.device.createBuffer({ size: bytes, usage: U.QUERY_RESOLVE | U.COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: U.MAP_READ | U.COPY_DST });
    const enc = this.device.createCommandEncoder();
    p.sets.forEach((set, k) => {
      const count = Math.min(2 * PROFILE_SET, 2 * (n - k * PROFILE_SET));
      if (count > 0) enc.resolveQuerySet(set, 0, count, resolved, k * PROFILE_SET * 16);
    });
    enc.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    resolved.destroy();
    p.destroy();
    return p.labels.map((label, i) => ({ label, ms: t[2 * i + 1] >= t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) / 1e6 : 0 }));
  }

  /** A small number naming a pipeline or buffer in bind-group cache keys. */
  private objectId(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  private watch(p: Promise<GPUError | null>, kind: string, label: string): void {
    this.errorChecks.push(
      p.then((e) => {
        if (e && !this.firstError) this.firstError = new GpuError(kind, label, e.message);
      }),
    );
  }

  /** Submit everything encoded so far. */
  flush(): void {
    if (!this.encoder) {
      // Nothing is waiting in an encoder, so buffers released since the last submit were
      // last used by work already submitted: they are reusable now.
      this.pool.afterSubmit();
      this.readPool.afterSubmit();
      return;
    }
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.uniformUsed > 0) {
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformStaging, 0, this.uniformUsed * UNIFORM_SLOT);
    }
    const cb = this.encoder.finish();
    this.device.queue.submit([cb]);
    const names = batchNames(this.batchKernels);
    this.watch(this.device.popErrorScope(), 'validation error (set FOCUSNET_CHECK=1 to pinpoint the dispatch)', names);
    this.watch(this.device.popErrorScope(), 'out-of-memory', names);
    this.encoder = null;
    this.uniformUsed = 0;
    this.dispatchesInBatch = 0;
    this.batchKernels = [];
    this.counters.submits++;
    this.pool.afterSubmit();
    this.readPool.afterSubmit();
  }

  /** Wait until the GPU has finished all submitted work and throw any error it raised. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.checkErrors();
  }

  async checkErrors(): Promise<void> {
    if (this.errorChecks.length) {
      const checks = this.errorChecks;
      this.errorChecks = [];
      await Promise.all(checks);
    }
    if (this.lostReason) throw new GpuError('device lost', '-', this.lostReason);
    this.throwIfFailed();
  }

  /** Throw a pending error found so far, without waiting. */
  throwIfFailed(): void {
    // A dispatch's own error scope names the kernel and the cause; an uncaptured error
    // (finish/submit of the batch it invalidated) is reported only when no scope caught one.
    const e = this.compileError ?? this.firstError ?? this.uncapturedError;
    this.compileError = null;
    this.firstError = null;
    this.uncapturedError = null;
    if (e) {
      // the failed dispatch's bind group may be cached (invalid); drop the cache so a retry
      // re-creates it and its own error scope reports the cause
      this.bindGroups.clear();
      throw e;
    }
  }

  // ---- data movement ----------------------------------------------------------------------

  /**
   * Upload `data` into a slice. queue.writeBuffer takes effect before any command still
   * waiting in the open encoder, so a write to a buffer those commands use would overtake
   * them: the pending batch is submitted first. `fresh` skips that for a buffer just taken
   * from the pool, which no pending command can touch (the pool hands a buffer out only
   * after the submit of its last use).
   */
  write(slice: BufferSlice, data: ArrayBufferView, fresh = false): void {
    if (!fresh && this.encoder) this.flush();
    this.device.queue.writeBuffer(slice.buffer, slice.offset, data.buffer, data.byteOffset, data.byteLength);
  }

  copy(src: BufferSlice, dst: BufferSlice, bytes: number): void {
    const enc = this.encoderForCopy();
    enc.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, bytes);
  }

  /** Read `bytes` from a slice (the pending batch is submitted first). */
  async read(slice: BufferSlice, bytes: number): Promise<ArrayBuffer> {
    const padded = Math.ceil(bytes / 4) * 4;
    const staging = this.readPool.acquire(padded);
    const enc = this.encoderForCopy();
    enc.copyBufferToBuffer(slice.buffer, slice.offset, staging, 0, padded);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, padded);
    } catch (e) {
      await this.checkErrors();
      throw e;
    }
    const out = staging.getMappedRange(0, padded).slice(0, bytes);
    staging.unmap();
    this.readPool.release(staging);
    await this.checkErrors();
    return out;
  }

  memory(): PoolStats {
    return this.pool.getStats();
  }

  /** Free pooled buffers not in use (and the bind groups that reference them). */
  trim(): void {
    this.flush();
    this.bindGroups.clear();
    this.pool.trim();
    this.readPool.trim();
  }

  private placeholderSlice: BufferSlice | null = null;
  /**
   * A 256-byte zeroed storage buffer, one per device, outside the pool (so it never shows in
   * pool statistics), bound where a kernel's binding is unused: no bias, no momentum, no
   * labels, no gradient output. A dispatch must bind it at most once.
   */
  placeholder(): BufferSlice {
    if (!this.placeholderSlice) {
      const buffer = this.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE, label: 'placeholder' });
      this.placeholderSlice = { buffer, offset: 0, size: 256 };
    }
    return this.placeholderSlice;
  }

  destroy(): void {
    this.trim();
    this.device.destroy();
  }
}

function batchNames(labels: string[]): string {
  if (!labels.length) return 'copy';
  const uniq = [...new Set(labels)];
  return uniq.length > 8 ? `one of ${uniq.slice(0, 8).join(', ')}, …` : uniq.length > 1 ? `one of ${uniq.join(', ')}` : uniq[0];
}

// Timestamp query sets for profiling: a dispatch k writes queries 2k and 2k+1 of set
// k / PROFILE_SET (sets hold at most 4096 queries).
const PROFILE_SET = 2048;
class Profiler {
  readonly sets: GPUQuerySet[] = [];
  readonly labels: string[] = [];
  constructor(private readonly device: GPUDevice, readonly cap: number) {}
  writes(k: number): GPUComputePassTimestampWrites {
    const s = Math.floor(k / PROFILE_SET);
    while (this.sets.length <= s) this.sets.push(this.device.createQuerySet({ type: 'timestamp', count: 2 * PROFILE_SET }));
    const j = k % PROFILE_SET;
    return { querySet: this.sets[s], beginningOfPassWriteIndex: 2 * j, endOfPassWriteIndex: 2 * j + 1 };
  }
  destroy(): void {
    for (const q of this.sets) q.destroy();
    this.sets.length = 0;
  }
}

// ---- acquisition ------------------------------------------------------------------------------

let current: Gpu | null = null;
let pending: Promise<Gpu> | null = null;
// Dawn's instance lives as long as the object returned by create() is referenced:
// it must be held for the life of the process (or until shutdown()).
let instance: GPU | null = null;

/** Destroy the device and drop Dawn's instance so the process can exit on its own. */
export async function shutdown(): Promise<void> {
  if (pending) await pending.catch(() => undefined);
  if (current) {
    try {
      await current.sync();
    } catch {
      /* errors were reported to their callers */
    }
    current.destroy();
  }
  current = null;
  pending = null;
  instance = null;
}

/** The initialized GPU; throws if `init()` has not completed. */
export function gpu(): Gpu {
  if (!current) throw new Error('focusnet: call `await init()` before creating tensors');
  return current;
}

export function hasGpu(): boolean {
  return current !== null;
}

/** Acquire the best adapter (a hardware GPU if present, else the software one) and compile kernels. */
export function init(opts: InitOptions = {}): Promise<Gpu> {
  if (current) return Promise.resolve(current);
  if (!pending) {
    pending = acquire(opts).then(
      (g) => (current = g),
      (e) => {
        pending = null;
        throw e;
      },
    );
  }
  return pending;
}

async function acquire(opts: InitOptions): Promise<Gpu> {
  Object.assign(globalThis, globals);
  let navigatorGpu: GPU;
  try {
    navigatorGpu = create(process.env.FOCUSNET_DAWN_FLAGS ? process.env.FOCUSNET_DAWN_FLAGS.split(' ') : []);
    instance = navigatorGpu;
  } catch (e) {
    throw new NoAdapterError(`Dawn failed to load: ${(e as Error).message}`);
  }
  const adapter = await navigatorGpu.requestAdapter({
    powerPreference: opts.powerPreference ?? 'high-performance',
    forceFallbackAdapter: opts.forceFallbackAdapter ?? false,
  });
  if (!adapter) throw new NoAdapterError('requestAdapter() returned null');
  const ai = adapter.info;
  const isSoftware =
    (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    ai.architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader|software/i.test(`${ai.description} ${ai.device}`);
  const info: AdapterInfo = {
    vendor: ai.vendor,
    architecture: ai.architecture,
    description: ai.description,
    device: ai.device,
    isSoftware,
    backend: (ai as unknown as { backend?: string }).backend ?? ({ linux: 'vulkan', darwin: 'metal', win32: 'd3d12' } as Record<string, string>)[process.platform] ?? 'unknown',
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
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  if (adapter.features.has('subgroups' as GPUFeatureName)) requiredFeatures.push('subgroups' as GPUFeatureName);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: wanted, requiredFeatures });
  } catch (e) {
    throw new NoAdapterError(`requestDevice() failed: ${(e as Error).message}`);
  }
  const g = new Gpu(adapter, device, info);
  g.checkEachDispatch = opts.checkEachDispatch ?? process.env.FOCUSNET_CHECK === '1';
  await g.compileAll();
  return g;
}

/** Build a 2-D workgroup grid for `n` invocations of size `wg` (dispatches are capped at 65,535 per dimension). */
export function grid(n: number, wg: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}
