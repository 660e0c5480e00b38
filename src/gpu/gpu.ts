// The device of the process: what every layer above reaches through `gpu()`. It ties together
// the pipeline cache (pipelines.ts), the command batch (batch.ts: dispatch, uniforms, bind
// groups, submits), error attribution (error-log.ts), timestamp profiling (profiler.ts) and the
// buffer pools (pool.ts), and moves data: uploads, copies, readbacks.

import { BufferPool, PoolStats } from './pool.js';
import { PipelineCache } from './pipelines.js';
import { CommandBatch, DispatchDesc, BufferSlice } from './batch.js';
import { ErrorLog } from './error-log.js';
import { Profiler } from './profiler.js';
import type { ParamFields } from './params.js';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
  isSoftware: boolean;
  backend: string;
}

export class Gpu {
  readonly limits: GPUSupportedLimits;
  readonly features: Set<string>;
  /** storage buffers of tensors */
  readonly pool: BufferPool;
  private readonly readPool: BufferPool;
  private readonly log = new ErrorLog();
  private readonly pipelines: PipelineCache;
  private readonly batch: CommandBatch;

  constructor(readonly adapter: GPUAdapter, readonly device: GPUDevice, readonly info: AdapterInfo) {
    this.limits = device.limits;
    this.features = new Set([...device.features].map(String));
    const U = GPUBufferUsage;
    this.pool = new BufferPool(device, U.STORAGE | U.COPY_SRC | U.COPY_DST, 'storage');
    this.readPool = new BufferPool(device, U.MAP_READ | U.COPY_DST, 'readback');
    this.pipelines = new PipelineCache(device, this.log);
    this.batch = new CommandBatch(device, this.pipelines, this.log, [this.pool, this.readPool]);
    device.lost.then((l) => {
      this.log.lostReason = `${l.reason}: ${l.message}`;
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => this.log.uncapturedError(ev.error.message, this.batch.kernels.join(', '));
  }

  // ---- kernels ------------------------------------------------------------------------------

  /** Compile every registered kernel module (init does this); throws WGSL errors with file:line. */
  compileAll(): Promise<void> {
    return this.pipelines.compileAll();
  }

  pipeline(module: string, entry = 'main', constants?: Record<string, number>): GPUComputePipeline {
    return this.pipelines.pipeline(module, entry, constants);
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /** Encode one dispatch into the open batch (nothing is submitted or awaited). */
  dispatch<F extends ParamFields>(d: DispatchDesc<F>): void {
    this.batch.dispatch(d);
  }

  /** dispatches encoded, submits made, bind groups created */
  get counters(): CommandBatch['counters'] {
    return this.batch.counters;
  }

  /** One error scope per dispatch so errors name the exact kernel (slow; also FOCUSNET_CHECK=1). */
  get checkEachDispatch(): boolean {
    return this.batch.checkEachDispatch;
  }
  set checkEachDispatch(v: boolean) {
    this.batch.checkEachDispatch = v;
  }

  /** Optional per-dispatch hook (profiling, tests): called with each dispatch's label and kernel name. */
  get onDispatch(): ((label: string, kernel: string) => void) | null {
    return this.batch.onDispatch;
  }
  set onDispatch(f: ((label: string, kernel: string) => void) | null) {
    this.batch.onDispatch = f;
  }

  /** Batches submitted and not yet seen finished (see backlog.ts). */
  get inFlight(): number {
    return this.batch.backlog.inFlight;
  }

  /** Where the engine's warnings go (console.warn by default): queued work, growing memory. */
  get onWarning(): (message: string) => void {
    return this.batch.backlog.warn;
  }
  set onWarning(f: (message: string) => void) {
    this.batch.backlog.warn = f;
  }

  /** The open command encoder with no compute pass open (copies and clears). */
  encoderForCopy(): GPUCommandEncoder {
    return this.batch.encoderForCopy();
  }

  // ---- submits and errors -------------------------------------------------------------------

  /** Submit everything encoded so far. */
  flush(): void {
    this.batch.flush();
  }

  /** Wait until the GPU has finished all submitted work and throw any error it raised. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.log.check();
  }

  /** Await the error checks collected so far and throw the first error. */
  checkErrors(): Promise<void> {
    return this.log.check();
  }

  /** Throw a pending error found so far, without waiting. */
  throwIfFailed(): void {
    this.log.throwIfFailed();
  }

  // ---- profiling ----------------------------------------------------------------------------

  private profiler: Profiler | null = null;

  /**
   * Time every following dispatch (up to `maxDispatches`) with timestamp queries; each runs in
   * its own compute pass while profiling. False when the adapter lacks 'timestamp-query'.
   */
  startProfile(maxDispatches = 8192): boolean {
    if (!this.features.has('timestamp-query')) return false;
    this.flush();
    this.profiler?.destroy();
    this.batch.profiler = this.profiler = new Profiler(this.device, maxDispatches);
    return true;
  }

  /** Stop profiling: the label and GPU milliseconds of every timed dispatch, in order. */
  async stopProfile(): Promise<{ label: string; ms: number }[]> {
    const p = this.profiler;
    if (!p) return [];
    this.batch.profiler = this.profiler = null;
    this.flush();
    return p.resolve();
  }

  // ---- data movement ------------------------------------------------------------------------

  /**
   * Upload `data` into a slice. queue.writeBuffer takes effect before any command still waiting
   * in the open encoder, so a write to a buffer those commands use would overtake them: the
   * pending batch is submitted first. `fresh` skips that for a buffer just taken from the pool,
   * which no pending command can touch (the pool hands a buffer out only after the submit of its
   * last use).
   */
  write(slice: BufferSlice, data: ArrayBufferView, fresh = false): void {
    if (!fresh && this.batch.open) this.flush();
    this.device.queue.writeBuffer(slice.buffer, slice.offset, data.buffer, data.byteOffset, data.byteLength);
  }

  copy(src: BufferSlice, dst: BufferSlice, bytes: number): void {
    this.batch.encoderForCopy().copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, bytes);
  }

  /** Read `bytes` from a slice (the pending batch is submitted first). */
  async read(slice: BufferSlice, bytes: number): Promise<ArrayBuffer> {
    const padded = Math.ceil(bytes / 4) * 4;
    const staging = this.readPool.acquire(padded);
    this.batch.encoderForCopy().copyBufferToBuffer(slice.buffer, slice.offset, staging, 0, padded);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, padded);
    } catch (e) {
      await this.log.check();
      throw e;
    }
    const out = staging.getMappedRange(0, padded).slice(0, bytes);
    staging.unmap();
    this.readPool.release(staging);
    await this.log.check();
    return out;
  }

  memory(): PoolStats {
    return this.pool.getStats();
  }

  /** Free pooled buffers not in use (and the bind groups that reference them). */
  trim(): void {
    this.flush();
    this.batch.clearBindGroups();
    this.pool.trim();
    this.readPool.trim();
  }

  private placeholderSlice: BufferSlice | null = null;
  /**
   * A 256-byte zeroed storage buffer, one per device, outside the pool (so it never shows in pool
   * statistics), bound where a kernel's binding is unused: no bias, no momentum, no labels, no
   * gradient output. A dispatch must bind it at most once.
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
