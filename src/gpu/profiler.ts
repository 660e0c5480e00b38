// Timestamp profiling: while a Profiler is active every dispatch runs in its own compute pass
// whose beginning and end write timestamps; dispatch k writes queries 2k and 2k+1 of query set
// k / PROFILE_SET (sets hold at most 4096 queries). `resolve()` reads them back as milliseconds.

const PROFILE_SET = 2048;

export class Profiler {
  readonly sets: GPUQuerySet[] = [];
  readonly labels: string[] = [];
  constructor(private readonly device: GPUDevice, readonly cap: number) {}

  get full(): boolean {
    return this.labels.length >= this.cap;
  }

  /** The timestamp writes of the next dispatch's pass. */
  writes(): GPUComputePassTimestampWrites {
    const k = this.labels.length;
    const s = Math.floor(k / PROFILE_SET);
    while (this.sets.length <= s) this.sets.push(this.device.createQuerySet({ type: 'timestamp', count: 2 * PROFILE_SET }));
    const j = k % PROFILE_SET;
    return { querySet: this.sets[s], beginningOfPassWriteIndex: 2 * j, endOfPassWriteIndex: 2 * j + 1 };
  }

  /** Read every timed dispatch back (after its work was submitted) and free the query sets. */
  async resolve(): Promise<{ label: string; ms: number }[]> {
    const n = this.labels.length;
    if (n === 0) {
      this.destroy();
      return [];
    }
    const bytes = 16 * n;
    const U = GPUBufferUsage;
    const resolved = this.device.createBuffer({ size: bytes, usage: U.QUERY_RESOLVE | U.COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: U.MAP_READ | U.COPY_DST });
    const enc = this.device.createCommandEncoder();
    this.sets.forEach((set, k) => {
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
    this.destroy();
    return this.labels.map((label, i) => ({ label, ms: t[2 * i + 1] >= t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) / 1e6 : 0 }));
  }

  destroy(): void {
    for (const q of this.sets) q.destroy();
    this.sets.length = 0;
  }
}
