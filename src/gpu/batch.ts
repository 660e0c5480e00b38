// Command batching: dispatches go into one open compute pass of one command encoder; the batch
// is submitted when a readback needs it, on `flush()`, or early when it is full (512 uniform
// slots or dispatches) or when 128 MiB of released buffers wait for a submit. Each dispatch's
// parameters are packed (ParamBlock.pack) into its 256-byte slot of one CPU staging array,
// written to the uniform buffer once per submit (queue order puts the write after the previous
// batch and before this one, so one uniform buffer serves every batch). Bind groups are cached
// by pipeline, uniform slot and buffer slices: a training step reuses the same pooled buffers
// in the same order, so the steady state creates none (`counters.bindGroups`). Each batch runs
// inside validation and out-of-memory error scopes (each dispatch in its own with
// checkEachDispatch); their outcomes go to the ErrorLog, never awaited here.

import type { Kernel } from './kernels.js';
import { PARAM_SLOT_BYTES, ParamFields, ParamValues } from './params.js';
import { PipelineCache } from './pipelines.js';
import { ErrorLog, batchNames } from './error-log.js';
import { Profiler } from './profiler.js';
import type { BufferPool } from './pool.js';
import { Backlog } from './backlog.js';

export interface BufferSlice {
  buffer: GPUBuffer;
  /** byte offset, a multiple of 256 */
  offset: number;
  /** bytes, a multiple of 4 */
  size: number;
}

export interface DispatchDesc<F extends ParamFields = ParamFields> {
  /** the registered kernel module (registerKernel) */
  kernel: Kernel<F>;
  /** its uniform block's values (binding 0) */
  params: ParamValues<F>;
  entry?: string;
  /** pipeline-overridable constants; part of the pipeline cache key */
  constants?: Record<string, number>;
  /** kernel name used in error messages and profiles; defaults to the module name */
  label?: string;
  /** storage bindings 1..n of group 0, in order */
  bindings: readonly BufferSlice[];
  workgroups: readonly [number, number?, number?];
}

const SLOTS = 512;
const MAX_DISPATCHES = 512;
/**
 * Released buffers become reusable only after a submit; when this many bytes wait for one, the
 * batch is submitted early so a long run of dispatches without readbacks (a training loop)
 * recycles its intermediates instead of allocating new buffers.
 */
const PENDING_FLUSH_BYTES = 128 * 1024 * 1024;
const BIND_GROUP_CACHE = 8192;

export class CommandBatch {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly uniformBuffer: GPUBuffer;
  private readonly staging = new ArrayBuffer(PARAM_SLOT_BYTES * SLOTS);
  private readonly u32 = new Uint32Array(this.staging);
  private readonly i32 = new Int32Array(this.staging);
  private readonly f32 = new Float32Array(this.staging);
  private slotsUsed = 0;
  private dispatches = 0;
  /** labels of the open batch's dispatches, for error messages */
  kernels: string[] = [];
  private bindGroups = new Map<string, GPUBindGroup>();
  private ids = new WeakMap<object, number>();
  private nextId = 1;
  /** dispatches encoded, submits made, bind groups created (a repeated step should create none) */
  readonly counters = { dispatches: 0, submits: 0, bindGroups: 0 };
  /** one error scope per dispatch (names the exact kernel; ~50 µs per dispatch) */
  checkEachDispatch = false;
  /** optional per-dispatch hook (profiling, tests): the dispatch's label and its kernel's name */
  onDispatch: ((label: string, kernel: string) => void) | null = null;
  profiler: Profiler | null = null;
  /** queued-work and memory-growth warnings */
  readonly backlog: Backlog;

  constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: PipelineCache,
    private readonly log: ErrorLog,
    /** pools whose released buffers become reusable at each submit (the first one's pending bytes trigger early submits) */
    private readonly pools: readonly BufferPool[],
  ) {
    this.uniformBuffer = device.createBuffer({ size: PARAM_SLOT_BYTES * SLOTS, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'uniforms' });
    log.onThrow = () => this.bindGroups.clear(); // a failed dispatch's bind group may be cached (invalid)
    this.backlog = new Backlog(pools[0]);
  }

  private ensureEncoder(): GPUCommandEncoder {
    this.log.throwIfLost(this.kernels.join(', '));
    if (!this.encoder) {
      this.encoder = this.device.createCommandEncoder();
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
    }
    return this.encoder;
  }

  /** The open command encoder, with no compute pass open (for copies and clears). */
  encoderForCopy(): GPUCommandEncoder {
    const encoder = this.ensureEncoder();
    this.endPass();
    return encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  dispatch<F extends ParamFields>(d: DispatchDesc<F>): void {
    const label = d.label ?? d.kernel.name;
    if (this.slotsUsed >= SLOTS || this.dispatches >= MAX_DISPATCHES || this.pools[0].pendingBytes >= PENDING_FLUSH_BYTES) this.flush();
    const slot = this.slotsUsed;
    // pack first: a bad parameter throws before anything is encoded
    d.kernel.params.pack(d.params, this.u32, this.i32, this.f32, (slot * PARAM_SLOT_BYTES) / 4, label);
    this.slotsUsed++;
    // profiling: each dispatch in its own pass, bracketed by two timestamps
    const prof = this.profiler && !this.profiler.full ? this.profiler : null;
    if (prof) this.endPass();
    const encoder = this.ensureEncoder();
    if (!this.pass) this.pass = prof ? encoder.beginComputePass({ timestampWrites: prof.writes() }) : encoder.beginComputePass();
    const pass = this.pass;
    if (this.checkEachDispatch) this.device.pushErrorScope('validation');
    const pipe = this.pipelines.pipeline(d.kernel.name, d.entry ?? 'main', d.constants);
    pass.setPipeline(pipe);
    pass.setBindGroup(0, this.bindGroup(pipe, slot, d.bindings, label));
    const [x, y = 1, z = 1] = d.workgroups;
    if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
    if (this.checkEachDispatch) this.log.watch(this.device.popErrorScope(), 'validation error', label);
    this.kernels.push(label);
    this.dispatches++;
    this.counters.dispatches++;
    if (this.onDispatch) this.onDispatch(label, d.kernel.name);
    if (prof) {
      this.endPass();
      prof.labels.push(label);
    }
  }

  private bindGroup(pipe: GPUComputePipeline, slot: number, bindings: readonly BufferSlice[], label: string): GPUBindGroup {
    let key = `${this.objectId(pipe)}|${slot}`;
    for (const b of bindings) key += `|${this.objectId(b.buffer)}:${b.offset}:${b.size}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffer, offset: slot * PARAM_SLOT_BYTES, size: PARAM_SLOT_BYTES } }];
      bindings.forEach((b, k) => entries.push({ binding: k + 1, resource: { buffer: b.buffer, offset: b.offset, size: b.size } }));
      group = this.device.createBindGroup({ layout: this.pipelines.layout(pipe), entries, label });
      this.counters.bindGroups++;
      if (this.bindGroups.size >= BIND_GROUP_CACHE) this.bindGroups.clear();
      this.bindGroups.set(key, group);
    }
    return group;
  }

  /** A small number naming a pipeline or buffer in bind-group cache keys. */
  private objectId(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /** Whether commands are waiting in an unsubmitted encoder. */
  get open(): boolean {
    return this.encoder !== null;
  }

  /** Submit everything encoded so far. */
  flush(): void {
    if (!this.encoder) {
      // nothing waits in an encoder, so buffers released since the last submit were last used by
      // work already submitted: they are reusable now
      for (const p of this.pools) p.afterSubmit();
      return;
    }
    this.endPass();
    if (this.slotsUsed > 0) this.device.queue.writeBuffer(this.uniformBuffer, 0, this.staging, 0, this.slotsUsed * PARAM_SLOT_BYTES);
    this.device.queue.submit([this.encoder.finish()]);
    this.backlog.submitted(this.device.queue.onSubmittedWorkDone());
    const names = batchNames(this.kernels);
    this.log.watch(this.device.popErrorScope(), 'validation error (set FOCUSNET_CHECK=1 to pinpoint the dispatch)', names);
    this.log.watch(this.device.popErrorScope(), 'out-of-memory', names);
    this.encoder = null;
    this.slotsUsed = 0;
    this.dispatches = 0;
    this.kernels = [];
    this.counters.submits++;
    for (const p of this.pools) p.afterSubmit();
  }

  /** Drop cached bind groups (they reference buffers about to be destroyed). */
  clearBindGroups(): void {
    this.bindGroups.clear();
  }
}
