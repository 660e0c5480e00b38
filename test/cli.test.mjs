// The command line: errors exit with status 2 and name the flag or file; a tiny
// training run writes its files; a run killed with SIGKILL resumes to the same result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { distDir } from './helpers/lib.mjs';
import { tmp, writeIdxSet, idxBytes } from './helpers/datasets.mjs';

const CLI = join(distDir, 'cli.js');

function cli(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectExit2(args, pattern, what) {
  const r = cli(args);
  assert.is(r.code, 2, `${what}: exit ${r.code}, stderr ${r.err}`);
  assert.match(r.err, pattern, `${what}: stderr ${JSON.stringify(r.err)}`);
}

const data = tmp();
writeIdxSet(data, { n: 48, m: 16, h: 6, w: 6 });

test('--help', () => {
  const r = cli(['--help']);
  assert.is(r.code, 0);
  assert.match(r.out, /focusnet train/);
  assert.match(r.out, /--baseline-epochs/);
});

test('bad flags and values exit 2 naming the flag', () => {
  expectExit2(['train', '--data', data, '--bogus', '1'], /unknown flag --bogus/, 'unknown flag');
  expectExit2(['train', '--data', data, '--epochs', 'abc'], /--epochs "abc": expected a number/, 'not a number');
  expectExit2(['train', '--data', data, '--epochs', '0'], /--epochs "0": expected a positive integer/, 'zero epochs');
  expectExit2(['train', '--data', data, '--loss', 'hinge'], /--loss "hinge": expected one of focus, ce, ls, kd/, 'bad loss');
  expectExit2(['train', '--data', data, '--arch', 'vgg'], /focusnet train: --arch vgg: unknown architecture \(one of lenet5, resnet18, resnet34, mobilenetv2, mlp\)/, 'bad arch');
  expectExit2(['train', '--data', data, '--baseline-arch', 'vgg'], /focusnet train: --baseline-arch vgg: unknown architecture/, 'bad baseline arch');
  expectExit2(['eval', '--data', data, '--arch', 'vgg', '--checkpoint', 'x.safetensors'], /focusnet eval: --arch vgg: unknown architecture/, 'bad eval arch');
  expectExit2(['train', '--data', data, '--batch-size'], /--batch-size needs a value/, 'missing value');
  expectExit2(['train', '--data', data, '--lr', '0'], /--lr 0: expected a number > 0/, 'lr');
  expectExit2(['frobnicate'], /unknown command 'frobnicate'/, 'command');
  expectExit2(['eval', '--data', data, '--arch', 'mlp'], /--checkpoint is required/, 'eval');
  expectExit2(['train', '--data', data, '--baseline', '/nope/b.safetensors'], /\/nope\/b\.safetensors: --baseline checkpoint does not exist/, 'baseline');
});

test('cam and report share the flag parser: errors name the command and the flag', () => {
  expectExit2(['cam', '--checkpoint', 'm.safetensors', '--data', data, '--index', 'abc'], /focusnet cam: --index "abc": expected a number/, 'cam bad number');
  expectExit2(['cam', '--checkpoint', 'm.safetensors', '--data', data, '--index', '-1'], /focusnet cam: --index "-1": expected an integer >= 0/, 'cam negative index');
  expectExit2(['cam', '--data', data, '--index'], /focusnet cam: --index needs a value/, 'cam missing value');
  expectExit2(['cam', '--bogus', '1'], /focusnet cam: unknown flag --bogus \(see focusnet cam --help\)/, 'cam unknown flag');
  expectExit2(['cam', '--data', data, '--index', '0', '--method', 'lrp'], /focusnet cam: --method "lrp": expected one of cam, gradcam/, 'cam method');
  expectExit2(['cam', '--data', data, '--index', '0'], /focusnet cam: --checkpoint is required/, 'cam required');
  expectExit2(['report', '--run'], /focusnet report: --run needs a value/, 'report missing value');
  expectExit2(['report', '--data', data], /focusnet report: --run is required/, 'report required');
  const r = cli(['cam', '--help']);
  assert.is(r.code, 0);
  assert.match(r.out, /usage: focusnet cam/);
});

test('bad data exits 2 naming the folder or file', () => {
  expectExit2(['train', '--data', '/nonexistent/fn-data'], /\/nonexistent\/fn-data: data folder does not exist/, 'missing folder');
  const odd = tmp();
  writeFileSync(join(odd, 'x.csv'), '1,2,3');
  expectExit2(['train', '--data', odd], /unknown data format/, 'unknown format');
  const tr = tmp();
  writeIdxSet(tr, { n: 8, m: 4, h: 4, w: 4 });
  const p = join(tr, 'train-images-idx3-ubyte');
  writeFileSync(p, readFileSync(p).subarray(0, 50));
  expectExit2(['train', '--data', tr], /train-images-idx3-ubyte: truncated IDX file/, 'truncated');
  const mm = tmp();
  writeIdxSet(mm, { n: 8, m: 4, h: 4, w: 4 });
  writeFileSync(join(mm, 'train-labels-idx1-ubyte'), idxBytes([7], [0, 1, 2, 3, 4, 5, 6]));
  expectExit2(['train', '--data', mm], /train-labels-idx1-ubyte: has 7 labels but .* has 8 images/, 'count mismatch');
  writeFileSync(join(mm, 'train-labels-idx1-ubyte'), idxBytes([8], [0, 1, 2, 3, 4, 5, 6, 77]));
  expectExit2(['train', '--data', mm], /train-labels-idx1-ubyte: label 77 at index 7 is beyond the 10 classes/, 'label range');
});

const TINY = ['train', '--data', data, '--arch', 'mlp', '--loss', 'ce', '--batch-size', '8', '--lr', '0.05', '--progress', 'plain', '--seed', '3'];

test('a tiny run writes metrics.jsonl, summary.json, the model, and eval reads it back', () => {
  const out = tmp();
  const r = cli([...TINY, '--epochs', '1', '--out', out]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /model\s+epochs\s+top-1 %\s+top-5 %/);
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.ok(Number.isFinite(s.ce.top1) && s.ce.top1 >= 0 && s.ce.top1 <= 100, `top-1 ${s.ce.top1}`);
  assert.is(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1);
  const e = cli(['eval', '--data', data, '--arch', 'mlp', '--checkpoint', join(out, 'ce.safetensors')]);
  assert.is(e.code, 0, e.err);
  const j = JSON.parse(e.out.split('\n')[0]);
  assert.ok(Math.abs(j.top1 - s.ce.top1) < 1e-6, `eval ${j.top1} vs training ${s.ce.top1}`);
});

test('SIGKILL mid-run, then --resume: same result as an uninterrupted run', async () => {
  const args = [...TINY, '--epochs', '6', '--progress', 'none'];
  const a = tmp();
  assert.is(cli([...args, '--out', a]).code, 0);
  const b = tmp();
  const child = spawn(process.execPath, [CLI, ...args, '--out', b], { stdio: 'ignore' });
  const ck = join(b, 'checkpoint-ce.safetensors');
  const t0 = Date.now();
  while (!existsSync(ck) && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  assert.ok(!existsSync(join(b, 'summary.json')), 'killed before the end');
  const r = cli([...args, '--out', b, '--resume']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /resuming from .*checkpoint-ce\.safetensors \([1-5] epochs done\)/);
  const sa = JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8'));
  const sb = JSON.parse(readFileSync(join(b, 'summary.json'), 'utf8'));
  assert.equal(sb.ce, sa.ce);
  const la = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
  const lb = readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
  assert.equal(lb, la);
});

test.run();
