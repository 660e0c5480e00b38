// Seeded fuzzing of the trainer's files (issue 12): a few hundred mutations of a training
// checkpoint and a model file of a small MLP run (bytes, the JSON header's dtypes, shapes,
// offsets and entries, and every metadata field). Each is read the way the trainer reads it in
// a worker thread (test/helpers/checkpoint-fuzz-worker.mjs, whose time this thread bounds:
// a hang terminates it); each one that reads cleanly is then used on the GPU here: a checkpoint
// resumed by train() (--resume: one more epoch), a model file built into a model and run.
// Every mutation either loads harmlessly or is refused with an InputError (the command line's
// exit status 2, a message without a stack trace) whose message names the mutated file; a few
// of the refusals go through the command line too, for the exit status and the stderr.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import lib, { distDir, tensor, noGrad, scope } from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';
import { runFuzzWorker } from './helpers/fuzz-runner.mjs';

const SEED = 20240613;
const COUNTS = { bytes: 120, header: 120, checkpointMeta: 160, modelMeta: 80 };
const CASE_MS = 10000; // the bound on one GPU-side case (they take tens of milliseconds)
const HANG_MS = 20000; // no word from the worker for this long: a hang, the worker is terminated
const { train: T } = lib;

const data = tmp();
writeIdxSet(data, { n: 32, m: 16, h: 6, w: 6 });
const opts = (out, extra = {}) => ({
  data, out, arch: 'mlp', loss: 'ce', epochs: 2, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', seed: 7, progress: 'none', log: () => {}, warmupSteps: 0,
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  ...extra,
});
const prepared = T.prepareData({ data });
// a run stopped after its first epoch (the checkpoint to resume) and a finished one (the model file)
const runDir = tmp('fn-ckfuzz-run-');
try {
  await T.train(opts(runDir, { stopAfterEpochs: 1 }), prepared);
} catch (e) {
  if (!(e instanceof T.StoppedError)) throw e;
}
const finished = tmp('fn-ckfuzz-done-');
await T.train(opts(finished), prepared);

function runWorker(root) {
  return runFuzzWorker(new URL('./helpers/checkpoint-fuzz-worker.mjs', import.meta.url), {
    dist: distDir, seed: SEED, counts: COUNTS, runDir, modelFile: join(finished, 'ce.safetensors'), root,
  }, { hangMs: HANG_MS }).then(({ cases, done }) => ({ cases, tally: done.tally }));
}

const x = tensor(Float32Array.from({ length: 2 * 36 }, (_, i) => Math.sin(i)), [2, 1, 6, 6]);

/** The GPU side of a case the worker read cleanly: 'loaded', 'diverged', 'InputError' or 'bad'. */
async function useOnGpu(c) {
  const bounded = (p) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`hang: more than ${CASE_MS} ms`)), CASE_MS))]);
  try {
    if (c.target === 'checkpoint') {
      const s = await bounded(T.train(opts(c.dir, { resume: true }), prepared));
      if (!(s.ce && Number.isFinite(s.ce.top1) && s.ce.top1 >= 0 && s.ce.top1 <= 100)) return { outcome: 'bad', message: `summary ${JSON.stringify(s.ce)}` };
    } else {
      const m = T.loadModelFile(c.path, { arch: 'mlp', numClasses: 10, inChannels: 1, imageSize: 6, matchClasses: true });
      const z = scope(() => noGrad(() => m.forward(x))); // (the forward's intermediates released)
      try {
        await bounded(z.read());
      } finally {
        z.dispose();
        m.dispose();
      }
    }
    return { outcome: 'loaded' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof T.DivergedError) return { outcome: 'diverged', message };
    if (e instanceof lib.InputError && message.includes(c.path)) return { outcome: 'InputError', message };
    return { outcome: 'bad', message: e instanceof Error ? e.stack : message };
  }
}

const total = Object.values(COUNTS).reduce((a, b) => a + b, 0);

test(`checkpoints and model files under ${total} seeded mutations: loaded harmlessly, or an InputError naming the file`, async () => {
  const t0 = performance.now();
  const { cases, tally } = await runWorker(tmp('fn-ckfuzz-'));
  assert.is(cases.length, total);
  const hostSeconds = (performance.now() - t0) / 1000;
  const gpu = { loaded: 0, diverged: 0, InputError: 0, bad: 0 };
  const bad = cases.filter((c) => c.outcome === 'bad').map((c) => `${c.desc}\n      ${c.message}`);
  for (const c of cases.filter((k) => k.outcome === 'loaded')) {
    const r = await useOnGpu(c);
    gpu[r.outcome]++;
    c.gpu = r;
    if (r.outcome === 'bad') bad.push(`${c.desc} (on the GPU)\n      ${r.message}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  // FUZZ_VERBOSE=1: every case and what came of it
  if (process.env.FUZZ_VERBOSE) for (const c of cases) console.log(`    ${c.desc}: ${c.gpu ? c.gpu.outcome : c.outcome}${c.gpu?.message || c.message ? ` (${(c.gpu?.message || c.message).split('\n')[0].replace(c.dir, '…')})` : ''}`);
  for (const [k, v] of Object.entries(tally)) console.log(`  ${k.padEnd(20)} read: ${String(v.loaded).padStart(3)} loaded  ${String(v.InputError).padStart(3)} InputError  ${v.bad} other`);
  console.log(`  on the GPU (${gpu.loaded + gpu.diverged + gpu.InputError + gpu.bad} that read cleanly): ${gpu.loaded} loaded, ${gpu.diverged} resumed then diverged (exit 1, the guard's message), ${gpu.InputError} InputError, ${gpu.bad} other`);
  console.log(`  ${total} mutations in ${seconds.toFixed(1)} s (host side in the worker ${hostSeconds.toFixed(1)} s)`);
  assert.equal(bad, [], `mutations with another outcome:\n    ${bad.join('\n    ')}`);
  const refused = cases.filter((c) => c.outcome === 'InputError').length + gpu.InputError;
  assert.ok(refused > total / 2 && gpu.loaded >= 20, `the mutations exercise both outcomes (${refused} refused, ${gpu.loaded} loaded)`);
  assert.ok(seconds < 120, `took ${seconds.toFixed(0)} s`);

  // through the command line: exit status 2, the file on stderr, no stack trace
  const CLI = join(distDir, 'cli.js');
  const pickOne = (pred) => cases.find(pred);
  const picks = [
    pickOne((c) => c.target === 'checkpoint' && c.family === 'metadata' && c.outcome === 'InputError'),
    pickOne((c) => c.target === 'checkpoint' && c.family === 'header' && c.outcome === 'InputError'),
    pickOne((c) => c.target === 'model' && c.family === 'bytes' && c.outcome === 'InputError'),
    pickOne((c) => c.target === 'model' && c.family === 'metadata' && c.outcome === 'InputError'),
  ].filter(Boolean);
  assert.is(picks.length, 4);
  for (const c of picks) {
    const args = c.target === 'checkpoint'
      ? ['train', '--data', data, '--arch', 'mlp', '--loss', 'ce', '--epochs', '2', '--batch-size', '16', '--lr', '0.05', '--seed', '7', '--warmup-steps', '0', '--progress', 'none', '--out', c.dir, '--resume']
      : ['eval', '--data', data, '--arch', 'mlp', '--checkpoint', c.path];
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
    assert.is(r.status, 2, `${c.desc}: exit ${r.status}: ${r.stderr}`);
    assert.ok(r.stderr.includes(c.path), `${c.desc}: stderr names the file: ${r.stderr}`);
    assert.not.match(r.stderr, /\n\s+at /, `${c.desc}: a stack trace`);
  }
});

test.after(() => x.dispose());
test.run();
