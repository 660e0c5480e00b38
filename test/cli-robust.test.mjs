// The command line under careless use (issue 12): every bad option, output folder or damaged
// checkpoint exits 2 naming the flag, path or field, before any training; a folder holding a
// run is never damaged by a later command; a closed stdout stops the printing, not the run.
// Unwritable folders: mode 0555, and when the tests run as root (who may write anyway) the
// command runs as the unprivileged uid 65534.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lib, { distDir } from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const CLI = join(distDir, 'cli.js');
const ROOT = process.getuid?.() === 0;

function cli(args, { unprivileged = false } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000, ...(unprivileged && ROOT ? { uid: 65534, gid: 65534 } : {}) });
  return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal };
}

/** Exit 2, the pattern on stderr, no stack trace, and no epoch trained. */
function expectExit2(args, pattern, what, o) {
  const r = cli(args, o);
  assert.is(r.code, 2, `${what}: exit ${r.code} (${r.signal ?? ''}), stderr ${r.err}`);
  assert.match(r.err, pattern, `${what}: stderr ${JSON.stringify(r.err)}`);
  assert.not.match(r.err, /\n\s+at /, `${what}: a stack trace`);
  assert.not.match(r.out, /epoch \d+\//, `${what}: trained before failing`);
  return r;
}

// a folder every user can read (the unprivileged runs read the data and the files in it)
const root = tmp('fn-robust-');
chmodSync(root, 0o755);
const data = join(root, 'data');
writeIdxSet(data, { n: 48, m: 16, h: 6, w: 6 });
const TINY = ['train', '--data', data, '--arch', 'mlp', '--batch-size', '8', '--lr', '0.05', '--progress', 'none', '--seed', '3'];
const CE = [...TINY, '--loss', 'ce'];

/** A finished two-epoch run to damage and resume. */
const done = join(root, 'done');
const first = cli([...CE, '--epochs', '2', '--out', done]);
assert.is(first.code, 0, first.err);

/** Every file of a folder: name → bytes and modification time. */
function snapshot(dir) {
  return Object.fromEntries(readdirSync(dir).sort().map((n) => [n, { bytes: readFileSync(join(dir, n)).toString('base64'), mtime: statSync(join(dir, n)).mtimeMs }]));
}

/** A copy of the finished run with one metadata field of its checkpoint set (undefined: removed). */
function damaged(field, value) {
  const dir = tmp('fn-damaged-');
  cpSync(done, dir, { recursive: true });
  const p = join(dir, 'checkpoint-ce.safetensors');
  const { tensors, metadata } = lib.train.readSafetensorsFile(p);
  if (value === undefined) delete metadata[field];
  else metadata[field] = value;
  writeFileSync(p, lib.train.encodeSafetensors(tensors, metadata));
  return dir;
}

// each option check, one test each: exit 2 naming the flag, nothing written into --out
const OPTION_CASES = [
  [['--epochs', '0x2'], /--epochs "0x2": expected a number/],
  [['--warmup-steps', '-5'], /--warmup-steps "-5": expected an integer >= 0/],
  [['--kd-weight', '5'], /--kd-weight 5: expected a number in \[0, 1\]/],
  [['--loss', 'kd', '--temperature', '0'], /--temperature 0: expected a number > 0/],
  [['--milestones', '5', '--epochs', '3'], /--milestones 5: 5 is beyond the last epoch/],
  [['--label-smoothing', '1.5'], /--label-smoothing 1\.5: expected a number in \[0, 1\)/],
  [['--momentum', '1.5'], /--momentum 1\.5: expected a number in \[0, 1\)/],
  [['--lr', 'Infinity'], /--lr "Infinity": expected a number/],
  [['--batch-size', '100'], /--batch-size 100 is larger than the 48 training images/],
  [['--mean', '0.5,0.5', '--std', '1,1'], /focusnet train: --mean\/--std: has 2 mean and 2 std values, the images of .* have 1 channel/],
  [['--resume', '--force'], /--resume and --force contradict each other/],
];
for (const [extra, pattern] of OPTION_CASES) {
  test(`train ${extra.join(' ')}: exit 2 naming the flag, before any work`, () => {
    const o = join(tmp('fn-opt-'), 'run');
    expectExit2([...TINY, ...extra, '--out', o], pattern, extra.join(' '));
    assert.ok(!existsSync(o) || readdirSync(o).length === 0, `${extra.join(' ')}: wrote into --out`);
  });
}

test('eval --mean/--std of the wrong length names the flags, not the data', () => {
  expectExit2(['eval', '--data', data, '--arch', 'mlp', '--checkpoint', join(done, 'ce.safetensors'), '--mean', '0.5,0.5', '--std', '1,1'], /focusnet eval: --mean\/--std: has 2 mean/, 'eval --mean');
});

test('train into a folder holding a run refuses and touches nothing', () => {
  const before = snapshot(done);
  expectExit2([...CE, '--epochs', '2', '--out', done], /--out .*done holds a training run \(ce\.safetensors, checkpoint-ce\.safetensors, metrics\.jsonl, summary\.json\); pass --resume to continue it, --force to replace it, or another --out/, 'a run folder');
  expectExit2([...TINY, '--loss', 'ls', '--epochs', '2', '--out', done], /holds a training run/, 'a run folder, another method');
  assert.equal(snapshot(done), before, 'the run folder is untouched');
});

test('--resume with another option (--momentum 0) exits 2 naming the flag and touches nothing', () => {
  const before = snapshot(done);
  expectExit2([...CE, '--epochs', '2', '--out', done, '--resume', '--momentum', '0'], /checkpoint-ce\.safetensors: --resume: this run was started with --momentum 0\.9, the command now says 0/, '--resume --momentum 0');
  assert.equal(snapshot(done), before, 'the run folder is untouched by a refused --resume');
});

test('--force replaces the run in --out (its files only)', () => {
  const copy = tmp('fn-force-');
  cpSync(done, copy, { recursive: true });
  writeFileSync(join(copy, 'notes.txt'), 'mine');
  const r = cli([...CE, '--epochs', '1', '--seed', '4', '--out', copy, '--force']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /--force: removed the earlier run in .* \(ce\.safetensors, checkpoint-ce\.safetensors, metrics\.jsonl, summary\.json\)/);
  assert.is(readFileSync(join(copy, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1, 'the new run\'s one epoch');
  assert.is(readFileSync(join(copy, 'notes.txt'), 'utf8'), 'mine', 'files that are not the run\'s stay');
});

for (const [value, pattern] of [['abc', /metadata field 'epoch': "abc" is not a whole number/], ['9', /metadata field 'epoch': 9 is beyond the 2 epochs the run was configured for/]]) {
  test(`a checkpoint whose epoch is "${value}": --resume exits 2 naming the file and the field`, () => {
    const dir = damaged('epoch', value);
    const r = expectExit2([...CE, '--epochs', '2', '--out', dir, '--resume'], pattern, `epoch=${value}`);
    assert.ok(r.err.includes(join(dir, 'checkpoint-ce.safetensors')), `names the file: ${r.err}`);
  });
}

test('--resume refuses another data set unless --allow-other-data', () => {
  const other = join(root, 'other');
  writeIdxSet(other, { n: 48, m: 16, h: 6, w: 6, seed: 9 });
  const dir = damaged('epoch', '2'); // an intact copy
  const args = ['train', '--data', other, ...CE.slice(3), '--epochs', '2', '--out', dir, '--resume'];
  expectExit2(args, /--resume: the run was started on idx data at .*data, this is idx data at .*other: content hash .*Pass --allow-other-data/, 'other data');
  const r = cli([...args, '--allow-other-data']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /note: --allow-other-data: continuing on other data/);
});

test('--out that is a file, or under a file, exits 2 naming the flag and the path', () => {
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  expectExit2([...CE, '--out', file], /focusnet train: --out .*a-file: is a file, not a folder/, 'a file');
  expectExit2([...CE, '--out', join(file, 'run')], /--out .*a-file\/run: .*a-file is a file, not a folder/, 'under a file');
  assert.is(readFileSync(file, 'utf8'), 'x');
});

test('--out under /proc exits 2 at once (no hang)', () => {
  const t0 = Date.now();
  expectExit2([...CE, '--out', '/proc/fn-robust/run'], /--out \/proc\/fn-robust\/run: \/proc is on procfs, a kernel file system that holds no files/, '/proc');
  assert.ok(Date.now() - t0 < 30000, 'no hang under /proc');
});

test('--out under /sys exits 2 naming the flag', () => {
  expectExit2([...CE, '--out', '/sys/fn-robust'], /--out \/sys\/fn-robust: \/sys is on sysfs/, '/sys');
});

test('an unwritable --out (or one under an unwritable folder) exits 2 before any training', () => {
  const ro = join(root, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  expectExit2([...CE, '--out', ro], /focusnet train: --out .*ro: cannot write into the folder \(EACCES/, 'unwritable', { unprivileged: true });
  expectExit2([...CE, '--out', join(ro, 'run')], /--out .*ro\/run: cannot create the folder .*ro\/run \(EACCES/, 'under an unwritable folder', { unprivileged: true });
  assert.equal(readdirSync(ro), []);
});

test('cam --out into a folder that cannot be written exits 2 naming the flag', async () => {
  const d28 = join(root, 'd28');
  writeIdxSet(d28, { n: 16, m: 8, h: 28, w: 28 });
  const model = lib.models.createModel('lenet5', { numClasses: 10, inChannels: 1, imageSize: 28, seed: 1 });
  const file = join(root, 'lenet5.safetensors');
  await lib.io.saveSafetensors(file, model.stateDict());
  model.dispose();
  const ro = join(root, 'ro-cam');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  expectExit2(['cam', '--arch', 'lenet5', '--checkpoint', file, '--data', d28, '--index', '0', '--out', join(ro, 'x.png')], /focusnet cam: --out .*ro-cam: cannot write into the folder \(EACCES/, 'cam --out', { unprivileged: true });
});

test('report into a run folder that cannot be written exits 2 naming the flag', () => {
  const run = join(root, 'ro-run');
  mkdirSync(run);
  cpSync(join(done, 'metrics.jsonl'), join(run, 'metrics.jsonl'));
  chmodSync(run, 0o555);
  expectExit2(['report', '--run', run], /focusnet report: --run .*ro-run: cannot write into the folder \(EACCES/, 'report', { unprivileged: true });
});

test('stale temporary files of killed writes are removed on the next start, only ours and only dead ones', () => {
  const dir = damaged('epoch', '2');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid; // exited: its pid is free
  const names = [`checkpoint-ce.safetensors.tmp-${dead}`, `metrics.jsonl.tmp-${dead}`, `notes.txt.tmp-${dead}`, `summary.json.tmp-${process.pid}`];
  for (const n of names) writeFileSync(join(dir, n), 'partial');
  const r = cli([...CE, '--epochs', '2', '--out', dir, '--resume']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /removed 2 temporary file\(s\) of interrupted writes/);
  assert.equal(names.map((n) => existsSync(join(dir, n))), [false, false, true, true]);
});

test('a closed stdout (train | head) stops the printing, not the training', async () => {
  const out = join(tmp('fn-epipe-'), 'run');
  const child = spawn(process.execPath, [CLI, ...CE, '--epochs', '4', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first line
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  const code = await new Promise((r) => child.on('exit', r));
  assert.is(code, 0, err);
  assert.not.match(err, /EPIPE/);
  assert.ok(existsSync(join(out, 'summary.json')), 'the run finished');
  assert.is(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 4);
});

test.run();
