// Storage: a reference-counted slice of a GPU buffer. Tensors and views share one; the buffer
// returns to the pool when the last reference goes (after the submit that last used it, see
// src/gpu/pool.ts). Each storage remembers which device made it (deviceGeneration), so a
// tensor from before a shutdown() is refused instead of touching a destroyed buffer.

import { gpu, deviceGeneration } from '../gpu/index.js';

export class Storage {
  refs = 1;
  /** the init() that made the device this storage lives on */
  readonly generation = deviceGeneration();
  constructor(
    readonly buffer: GPUBuffer,
    readonly offset: number,
    readonly bytes: number,
    /** false for slices of an arena owned by someone else (the optimizer's parameter arena) */
    private readonly pooled: boolean,
  ) {}
  retain(): this {
    if (this.refs <= 0) throw new Error('focusnet: internal: retaining freed storage');
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0 && this.pooled && this.generation === deviceGeneration()) gpu().pool.release(this.buffer);
  }
  /** Whether the buffer came from the pool (false for a view of someone else's arena). */
  get isPooled(): boolean {
    return this.pooled;
  }
  /** Whether the device this storage lives on is still the current one. */
  get live(): boolean {
    return this.generation === deviceGeneration();
  }
  static alloc(bytes: number): Storage {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    return new Storage(gpu().pool.acquire(size), 0, size, true);
  }
  static view(buffer: GPUBuffer, offset: number, bytes: number): Storage {
    return new Storage(buffer, offset, bytes, false);
  }
}
