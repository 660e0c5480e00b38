// `focusnet experiment` end to end on a tiny IDX set with the mlp: the methods preset
// writes results.jsonl, summary.md and index.html; its FocusNet is exactly stage 2 of an
// ordinary training with that seed; a rerun trains nothing; an experiment stopped in the
// middle of a run (the testing aid) or killed with SIGKILL, then rerun, skips what was
// finished and ends with the same top-1/top-5 for every training; the weak-baseline
// preset's snapshots are the baselines trained for that many epochs; bad input exits 2
// naming the flag, file or field; --dry-run writes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { distDir } from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const T = lib.train;
const CLI = join(distDir, 'cli.js');

function cli(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const data = tmp();
writeIdxSet(data, { n: 160, m: 80, h: 8, w: 8 });
const SCHEDULE = ['--arch', 'mlp', '--epochs', '2', '--batch-size', '16', '--lr', '0.1', '--warmup-steps', '3', '--progress', 'none'];
const METHODS = ['experiment', '--preset', 'methods', '--data', data, '--seeds', '1,2', ...SCHEDULE];

const results = (out) =>
  readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const byId = (out) => Object.fromEntries(results(out).map((r) => [r.id, [r.top1, r.top5]]));

const reference = tmp();

test('methods preset end to end: results.jsonl, summary.md, index.html; a rerun trains nothing', () => {
  const r = cli([...METHODS, '--out', reference]);
  assert.is(r.code, 0, r.err);
  const lines = results(reference);
  assert.is(lines.length, 2 + 8, '2 baselines (one per seed) + 4 methods × 2 seeds');
  for (const l of lines) {
    for (const k of ['id', 'kind', 'seed', 'top1', 'top5', 'seconds', 'config']) assert.ok(k in l, `${l.id} has ${k}`);
    assert.ok(l.top1 > 10 && l.top1 <= 100, `${l.id} learned something (top-1 ${l.top1})`);
  }
  const focus = lines.filter((l) => l.method === 'focusnet');
  assert.equal(focus.map((l) => l.seed), [1, 2]);
  assert.ok(focus.every((l) => l.baseline === lines.find((b) => b.kind === 'baseline' && b.seed === l.seed).id), 'each FocusNet run is guided by its own seed\'s baseline');
  assert.is(new Set(lines.map((l) => JSON.stringify([l.top1, l.method]))).size > 3, true, 'the runs differ');
  const md = readFileSync(join(reference, 'summary.md'), 'utf8');
  assert.match(md, /## methods/);
  assert.match(md, /\| `focusnet` \| FocusNet \| 2 \|/);
  assert.match(md, /\| `focusnet` \| `ce-control` \(CE control\) \| 2 \|/);
  const html = readFileSync(join(reference, 'index.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.not.match(html, /(src|href)\s*=\s*["']?(https?:|\/\/)/i, 'self-contained');
  const again = cli([...METHODS, '--out', reference]);
  assert.is(again.code, 0, again.err);
  assert.match(again.out, /0 trained, 10 already finished/);
  assert.is(results(reference).length, 10, 'nothing appended');
});

test("the experiment's FocusNet is stage 2 of `train --seed S` (same weights, bit for bit)", async () => {
  const line = results(reference).find((l) => l.method === 'focusnet' && l.seed === 2);
  const out = tmp();
  const s = await T.train({
    data, out, arch: 'mlp', loss: 'focus', epochs: 2, batchSize: 16, lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'multistep',
    warmupSteps: 3, seed: 2, progress: 'none', log: () => {},
    objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  });
  assert.is(s.focusnet.top1, line.top1);
  assert.is(s.baseline.top1, results(reference).find((l) => l.id === line.baseline).top1);
  const mine = T.readSafetensorsFile(join(out, 'focusnet.safetensors')).tensors;
  const theirs = T.readSafetensorsFile(join(reference, 'runs', line.id, 'focusnet.safetensors')).tensors;
  for (const k of Object.keys(mine)) assert.equal([...theirs[k].data], [...mine[k].data], `${k} differs`);
});

test('stopped in the middle of a run, then rerun: finished cells skipped, the same results', () => {
  const out = tmp();
  // 2 baselines of 2 epochs, then runs of 2 epochs: epoch 5 is the first epoch of seed 1's second run
  const r = cli([...METHODS, '--out', out, '--stop-after-epochs', '5']);
  assert.is(r.code, 1, `stopped: ${r.err}`);
  assert.match(r.err, /experiment stopped after 5 epochs/);
  const before = results(out);
  assert.ok(before.length >= 2 && before.length < 10, `part done (${before.length} lines)`);
  const partial = readdirSync(join(out, 'runs')).filter((d) => !before.some((l) => l.id === d));
  assert.is(partial.length, 1, 'one run part-way');
  assert.ok(existsSync(join(out, 'runs', partial[0], 'metrics.jsonl')));
  const again = cli([...METHODS, '--out', out]);
  assert.is(again.code, 0, again.err);
  assert.match(again.out, /resuming from .*\(1 epochs done\)/);
  assert.match(again.out, new RegExp(`\\n${10 - before.length} trained, ${before.length} already finished`));
  assert.equal(byId(out), byId(reference));
});

test('SIGKILL during an experiment, then rerun: the same results.jsonl', async () => {
  const out = tmp();
  const child = spawn(process.execPath, [CLI, ...METHODS, '--out', out], { stdio: 'ignore' });
  const path = join(out, 'results.jsonl');
  const t0 = Date.now();
  const count = () => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0);
  while (count() < 3 && Date.now() - t0 < 30000) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const done = count();
  assert.ok(done >= 3 && done < 10, `killed part-way (${done} lines)`);
  const again = cli([...METHODS, '--out', out]);
  assert.is(again.code, 0, again.err);
  assert.equal(byId(out), byId(reference));
});

test('weak-baseline: the baseline stopped after k epochs is the one trained for k epochs at a constant lr', async () => {
  const out = tmp();
  // the default warm-up ('auto': one epoch's 10 steps here) depends on the steps per epoch, not on the stage's length
  const schedule = SCHEDULE.filter((a, i) => a !== '--warmup-steps' && SCHEDULE[i - 1] !== '--warmup-steps');
  const r = cli(['experiment', '--preset', 'weak-baseline', '--data', data, '--seeds', '3', '--baseline-epochs', '3', ...schedule, '--out', out]);
  assert.is(r.code, 0, r.err);
  const lines = results(out);
  assert.equal(lines.filter((l) => l.kind === 'baseline').map((l) => l.epochs), [1, 2, 3]);
  assert.is(lines.filter((l) => l.method === 'focusnet').length, 3);
  const tracks = readdirSync(join(out, 'baselines'));
  assert.is(tracks.length, 1, 'one training yields all three baselines');
  assert.match(r.out, /== \[1–3\/7\] baseline mlp, 1, 2, 3 epochs \(constant lr: one training, a copy after each\)/);
  assert.match(r.out, /baseline: lr warm-up over the first 10 of 30 steps \(--warmup-steps auto\)/);
  const ref = tmp();
  await T.train({
    data, out: ref, arch: 'mlp', loss: 'focus', epochs: 2, baselineEpochs: 2, batchSize: 16, lr: 0.1, momentum: 0.9, weightDecay: 1e-4,
    schedule: 'constant', warmupSteps: 'auto', seed: 3, progress: 'none', log: () => {},
    objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  });
  const mine = T.readSafetensorsFile(join(ref, 'baseline.safetensors')).tensors;
  const snap = T.readSafetensorsFile(join(out, 'baselines', tracks[0], 'baseline-e2.safetensors')).tensors;
  for (const k of Object.keys(mine)) assert.equal([...snap[`model.${k}`].data], [...mine[k].data], `${k} differs`);
  const md = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(md, /`focusnet@2` \| `baseline@2`/);
  assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /Figure 4/);
});

test('bad input exits 2 naming the flag, file or field; nothing is written', () => {
  const out = join(tmp(), 'never');
  const exit2 = (args, pattern) => {
    const r = cli(['experiment', '--data', data, '--out', out, ...args]);
    assert.is(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.err}`);
    assert.match(r.err, pattern);
    assert.not.match(r.err, /\n\s+at /, 'no stack trace');
  };
  exit2(['--preset', 'tables'], /--preset tables: unknown preset \(known: methods, ablation/);
  exit2(['--preset', 'cross-arch', '--arch', 'mlp'], /--preset cross-arch needs --baseline-arch/);
  exit2(['--preset', 'methods', '--seeds', '1,2.5'], /--seeds 1,2\.5: seeds must be whole numbers/);
  exit2(['--preset', 'methods', '--seeds', '1,1'], /--seeds: seed 1 is listed twice/);
  exit2(['--preset', 'methods', '--seed', '2'], /--seed is not an experiment flag: use --seeds/);
  exit2(['--preset', 'methods', '--epochs', 'two'], /--epochs "two": expected a number/);
  exit2(['--preset', 'methods'], /lenet5 takes 28×28 images/);
  const spec = join(tmp(), 'spec.json');
  writeFileSync(spec, JSON.stringify({ methods: [{ name: 'a', loss: 'ce' }, { name: 'b', loss: 'focus' }, { name: 'c', loss: 'foo' }] }));
  exit2(['--spec', spec, '--arch', 'mlp'], /spec\.json: methods\[2\]\.loss: unknown loss 'foo' \(known: ce, focus, ls, kd\)/);
  writeFileSync(spec, JSON.stringify({ seeds: [1, 'x'], methods: [{ name: 'a', loss: 'ce' }] }));
  exit2(['--spec', spec, '--arch', 'mlp'], /spec\.json: seeds\[1\]: expected an integer/);
  writeFileSync(spec, '{"methods": [');
  exit2(['--spec', spec, '--arch', 'mlp'], /spec\.json: is not valid JSON/);
  assert.ok(!existsSync(out), 'no --out folder made');
});

test('a run that diverges is recorded and listed, never averaged in; a rerun does not retry it', () => {
  const out = tmp();
  const spec = join(tmp(), 'wild.json');
  // β = 10⁶ blows the logits up within a few steps
  writeFileSync(spec, JSON.stringify({ name: 'wild', methods: [{ name: 'ce-control', loss: 'ce' }, { name: 'wild', loss: 'focus', alpha: 1e6, beta: 1e6 }] }));
  const args = ['experiment', '--spec', spec, '--data', data, '--seeds', '1', ...SCHEDULE, '--log-every', '1', '--out', out];
  const r = cli(args);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /wild seed 1 diverged: .*not finite/);
  const line = results(out).find((l) => l.method === 'wild');
  assert.is(line.diverged, true);
  assert.is(line.top1, null);
  assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), /\| `wild` \| FocusNet \| 0 \| – \| – \| div\. \| diverged on seed 1 \|/);
  assert.match(cli(args).out, /0 trained, 3 already finished/);
});

test('--dry-run prints the grid and a measured estimate, and writes nothing', () => {
  const out = join(tmp(), 'dry');
  const r = cli([...METHODS, '--out', out, '--dry-run']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /experiment methods: 2 seed\(s\) × \(1 baseline\(s\) \+ 4 run\(s\)\) = 10 trainings; 0 finished/);
  assert.match(r.out, /estimate: .* for 20 epochs still to train .*from a probe run just now .*mlp \d+ training images\/s/);
  assert.ok(!existsSync(out));
  const done = cli([...METHODS, '--out', reference, '--dry-run']);
  assert.match(done.out, /10 finished/);
  assert.match(done.out, /estimate: 0 s for 0 epochs/);
});

test.run();
