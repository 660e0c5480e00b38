// Seeded fuzzing of the data readers (issue 12): a few hundred mutations (truncation,
// bit flips, header fields set to 0 / huge / odd values, gzip damage) of small IDX (raw
// and gzip), CIFAR-10/100 files and tiny PNG/JPEG image folders. Each mutated set either
// loads into a well-formed data set or throws a DataError whose message names the
// mutated file; never another exception, never a hang. The cases run in a worker thread
// (test/helpers/data-fuzz-worker.mjs); this thread bounds each case's time and
// terminates the worker if one runs past the bound.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { distDir } from './helpers/lib.mjs';
import { runFuzzWorker } from './helpers/fuzz-runner.mjs';

const SEED = 20240612;
const PER_FAMILY = 80; // × 6 families
const CASE_MS = 5000; // the bound on one case (they take milliseconds)
const HANG_MS = 20000; // no word from the worker for this long: a hang, the worker is terminated

function runFuzz() {
  return runFuzzWorker(new URL('./helpers/data-fuzz-worker.mjs', import.meta.url), { dist: distDir, seed: SEED, perFamily: PER_FAMILY }, { hangMs: HANG_MS })
    .then(({ cases, done }) => ({ results: cases, counts: done.counts }));
}

test(`data readers under ${6 * PER_FAMILY} seeded mutations: loaded or a DataError naming the file`, async () => {
  const t0 = performance.now();
  const { results, counts } = await runFuzz();
  const seconds = (performance.now() - t0) / 1000;
  const total = { loaded: 0, DataError: 0, bad: 0 };
  for (const [family, c] of Object.entries(counts)) {
    console.log(`  ${family.padEnd(9)} loaded ${String(c.loaded).padStart(3)}  DataError ${String(c.DataError).padStart(3)}  other ${c.bad}`);
    for (const k of Object.keys(total)) total[k] += c[k];
  }
  const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(`  all       loaded ${total.loaded}  DataError ${total.DataError}  other ${total.bad}; ${seconds.toFixed(1)} s, slowest case ${slowest.ms.toFixed(0)} ms (${slowest.desc})`);
  // FOCUSNET_FUZZ_VERBOSE=1: every case and its message
  if (process.env.FOCUSNET_FUZZ_VERBOSE) for (const r of results) console.log(`  [${r.outcome}] ${r.desc} → ${r.detail}`);
  assert.is(results.length, 6 * PER_FAMILY);
  const bad = results.filter((r) => r.outcome === 'bad');
  assert.equal(bad.map((r) => `${r.desc}: ${r.detail}`), [], 'every case loads or names the file');
  const slow = results.filter((r) => r.ms > CASE_MS);
  assert.equal(slow.map((r) => `${r.desc}: ${r.ms.toFixed(0)} ms`), [], `every case within ${CASE_MS} ms`);
  // the fuzzing reaches both outcomes in every family (else it tests nothing)
  for (const [family, c] of Object.entries(counts)) assert.ok(c.DataError > 0 && c.loaded + c.DataError === PER_FAMILY, `${family}: ${JSON.stringify(c)}`);
});

test.run();
