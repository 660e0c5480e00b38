// Watches for two ways careless code makes memory grow, and warns once about each (JavaScript
// cannot block a loop that never awaits, so a warning that names the fix is what the engine can
// do there):
//   - queued work: batches submitted but not yet completed by the GPU. A loop that never waits
//     for the GPU (no read, no `await gpu().sync()`, or no await at all: completions are only
//     seen when the event loop turns) queues work without bound, and Dawn holds every queued
//     command buffer. Warned past BACKLOG_WARN batches in flight; warned again only after the
//     queue has drained once (a later, separate pile-up). When live GPU memory also grew by more
//     than PILE_GROWTH_BYTES since the pile-up began (tensors kept too: no scope() either), the
//     warning says to run each step inside scope() as well.
//   - live GPU memory: the pool's bytes in use, sampled every SAMPLE_EVERY submits; warned when
//     it has grown at every one of GROWTH_SAMPLES samples in a row, by more than GROWTH_BYTES in
//     all (tensors created without scope() or dispose() that are still reachable).
// And it refuses one thing outright: more than UNPROCESSED_LIMIT GPU objects (bind groups and
// buffers) created while the event loop never turned (no completion seen since). Dawn frees
// nothing until it processes its events, which its Node binding does only from a setImmediate
// callback, and on lavapipe each such object holds a memory mapping: at Linux's default
// vm.max_map_count (65,530) the driver segfaults (a LeNet-5 loop with neither scope() nor await
// got there in ~1,500 steps). An error that names the fix beats a crash.

import type { BufferPool } from './pool.js';
import { FocusnetError } from '../errors.js';

const BACKLOG_WARN = 64;
const SAMPLE_EVERY = 64;
const GROWTH_SAMPLES = 16;
const GROWTH_BYTES = 256 * 1024 * 1024;
const PILE_GROWTH_BYTES = 64 * 1024 * 1024;
const UNPROCESSED_LIMIT = 50_000;

export class Backlog {
  /** batches submitted whose completion has not been seen yet */
  inFlight = 0;
  private submits = 0;
  private samples: number[] = [];
  private warned = { backlog: false, growth: false };
  /** the pool's bytes in use when the queue last went from empty to busy */
  private pileStart = 0;
  /** bind groups created, and the pool's allocations, when a completion was last seen */
  private atTurn = { bindGroups: 0, allocations: 0 };
  private bindGroups = 0;
  /** where warnings go (console.warn; tests replace it) */
  warn: (message: string) => void = (m) => console.warn(m);

  constructor(private readonly pool: BufferPool) {}

  /** After a submit: `done` resolves when the GPU has finished it. */
  submitted(done: Promise<unknown>): void {
    if (this.inFlight++ === 0) this.pileStart = this.pool.getStats().bytesInUse;
    const finished = () => {
      if (--this.inFlight === 0) this.warned.backlog = false;
      // a completion was seen: the event loop turned and Dawn processed its events
      this.atTurn = { bindGroups: this.bindGroups, allocations: this.pool.getStats().allocations };
    };
    done.then(finished, finished);
    if (this.inFlight > BACKLOG_WARN && !this.warned.backlog) {
      this.warned.backlog = true;
      const grown = this.pool.getStats().bytesInUse - this.pileStart;
      this.warn(
        `focusnet: ${this.inFlight} batches of GPU work are queued and not finished: the loop is running ahead of the GPU ` +
          `(or never lets the event loop turn), and memory grows with the queue. Wait for the GPU every few steps: ` +
          `\`await gpu().sync()\`, or read a value (\`await loss.item()\`).` +
          (grown > PILE_GROWTH_BYTES
            ? ` GPU memory in use also grew by ${(grown / 2 ** 20).toFixed(0)} MB meanwhile: tensors are kept without dispose(); run each step inside scope(() => { ... }) as well.`
            : ''),
      );
    }
    if (++this.submits % SAMPLE_EVERY === 0) this.sample();
  }

  /** A bind group was created (batch.ts). */
  bindGroupCreated(): void {
    this.bindGroups++;
  }

  /** Before a dispatch: refuse to go on once too many GPU objects wait for the event loop (see the header). */
  checkUnprocessed(): void {
    const n = this.bindGroups - this.atTurn.bindGroups + (this.pool.getStats().allocations - this.atTurn.allocations);
    if (n <= UNPROCESSED_LIMIT) return;
    throw new FocusnetError(
      `focusnet: ${n} GPU buffers and bind groups were created while the event loop never turned (no GPU work was seen finished since): ` +
        `WebGPU frees none of them until it does, and the process is about to run out of memory (or of memory mappings, where the ` +
        `software driver crashes). Wait for the GPU every few steps (\`await gpu().sync()\`, or read a value), and run each step ` +
        `inside scope(() => { ... }) so its tensors are freed.`,
    );
  }

  private sample(): void {
    const s = this.samples;
    s.push(this.pool.getStats().bytesInUse);
    if (s.length > GROWTH_SAMPLES) s.shift();
    if (this.warned.growth || s.length < GROWTH_SAMPLES) return;
    for (let i = 1; i < s.length; i++) if (!(s[i] > s[i - 1])) return;
    if (s[s.length - 1] - s[0] <= GROWTH_BYTES) return;
    this.warned.growth = true;
    const mb = (b: number) => (b / 2 ** 20).toFixed(0);
    this.warn(
      `focusnet: GPU memory in use keeps growing (${mb(s[0])} → ${mb(s[s.length - 1])} MB over the last ${SAMPLE_EVERY * (GROWTH_SAMPLES - 1)} submits): ` +
        `tensors are created and kept without dispose(). Run each step inside scope(() => { ... }), or dispose() what a step returns.`,
    );
  }
}
