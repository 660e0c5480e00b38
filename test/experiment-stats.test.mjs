// The experiment's statistics against a worked example and closed forms of the t
// quantile; spec validation naming the field; the grid a preset expands into; the
// report (summary.md, index.html) built from a hand-written results.jsonl. No training.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lib from './helpers/lib.mjs';
import { tmp } from './helpers/datasets.mjs';

const E = lib.experiment;
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

// jStat's quantile (an incomplete-beta inversion) agrees with the closed forms to about
// 2e-8 relative: far below the 0.01 points the tables print.
test('t quantile against closed forms (dof 1, 2, 4) and table values', () => {
  for (const p of [0.9, 0.95, 0.975, 0.995]) {
    // dof 1 (Cauchy): tan(π(p − ½));  dof 2: (2p − 1) / √(2p(1 − p))
    close(E.tQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-7, `t(${p}, 1)`);
    close(E.tQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-7, `t(${p}, 2)`);
    // dof 4: a = 4p(1 − p), q = cos(arccos(√a) / 3) / √a, t = 2√(q − 1)
    const a = 4 * p * (1 - p);
    const q = Math.cos(Math.acos(Math.sqrt(a)) / 3) / Math.sqrt(a);
    close(E.tQuantile(p, 4), 2 * Math.sqrt(q - 1), 1e-7, `t(${p}, 4)`);
  }
  // printed tables (t(0.975, ν)): 3.182 (ν = 3), 2.262 (ν = 9), 2.045 (ν = 29)
  close(E.tQuantile(0.975, 3), 3.182446305284263, 1e-7, 't(0.975, 3)');
  close(E.tQuantile(0.975, 9), 2.262157162798205, 1e-7, 't(0.975, 9)');
  close(E.tQuantile(0.975, 29), 2.045229642132703, 1e-7, 't(0.975, 29)');
  assert.ok(Number.isNaN(E.tQuantile(0.975, 0)), 'no interval from one value');
});

test('paired difference: a worked example by hand', () => {
  // seeds 1..5, method top-1 89.6 89.2 89.0 89.4 88.8, reference 89.0 on every seed
  //   d = 0.6, 0.2, 0.0, 0.4, −0.2            won 3 (0.6, 0.2, 0.4), lost 1 (−0.2), tied 1 (0.0)
  //   mean d = 1.0 / 5 = 0.2
  //   deviations 0.4, 0, −0.2, 0.2, −0.4; squares 0.16 + 0 + 0.04 + 0.04 + 0.16 = 0.40
  //   sd² = 0.40 / (5 − 1) = 0.1, sd = 0.316228; se = √(0.1 / 5) = √0.02 = 0.141421
  //   t(0.975, 4) = 2.776445; half-width 2.776445 · 0.141421 = 0.392649
  //   95% CI [0.2 − 0.392649, 0.2 + 0.392649] = [−0.192649, 0.592649]
  // and the method's own mean ± sd: 89.2 ± 0.316228 (the same deviations)
  const m = new Map([[1, 89.6], [2, 89.2], [3, 89.0], [4, 89.4], [5, 88.8]]);
  const r = new Map([[1, 89.0], [2, 89.0], [3, 89.0], [4, 89.0], [5, 89.0], [6, 70]]); // seed 6: no partner
  const d = E.pairedDifference(m, r);
  assert.is(d.n, 5);
  assert.equal(d.seeds, [1, 2, 3, 4, 5]);
  close(d.mean, 0.2, 1e-12, 'mean');
  close(d.sd, Math.sqrt(0.1), 1e-12, 'sd');
  close(d.se, Math.sqrt(0.02), 1e-12, 'se');
  close(d.t, 2.776445105197799, 1e-7, 't');
  close(d.lo, -0.192649, 1e-6, 'lo');
  close(d.hi, 0.592649, 1e-6, 'hi');
  assert.equal([d.won, d.lost, d.tied], [3, 1, 1]);
  const ms = E.meanSd([...m.values()]);
  close(ms.mean, 89.2, 1e-12, 'mean');
  close(ms.sd, Math.sqrt(0.1), 1e-12, 'sd');
  const one = E.pairedDifference(new Map([[1, 2]]), new Map([[1, 1]]));
  assert.is(one.n, 1);
  assert.is(one.mean, 1);
  assert.ok(Number.isNaN(one.lo) && Number.isNaN(one.sd), 'one seed: no interval');
});

const D = { arch: 'mlp', baselineEpochs: 2, schedule: 'multistep' };

test('spec errors name the file and the field', () => {
  const bad = (json, pattern) => {
    try {
      E.parseSpec(json, 'spec.json', D);
      assert.unreachable(`accepted ${JSON.stringify(json)}`);
    } catch (e) {
      assert.instance(e, E.SpecError);
      assert.match(e.message, pattern);
    }
  };
  bad({ methods: [{ name: 'a', loss: 'ce' }, { name: 'b', loss: 'focus' }, { name: 'c', loss: 'foo' }] }, /^spec\.json: methods\[2\]\.loss: unknown loss 'foo' \(known: ce, focus, ls, kd\)$/);
  bad({ methods: [{ name: 'a', loss: 'kd', alpha: 1 }] }, /^spec\.json: methods\[0\]\.alpha: applies to loss focus, not kd/);
  bad({ seeds: [1, 2.5], methods: [{ name: 'a', loss: 'ce' }] }, /^spec\.json: seeds\[1\]: expected an integer/);
  bad({ seeds: ['1'], methods: [{ name: 'a', loss: 'ce' }] }, /^spec\.json: seeds\[0\]: expected an integer, got the string "1"/);
  bad({ baseline: { arch: 'vgg16' }, methods: [{ name: 'a', loss: 'ce' }] }, /^spec\.json: baseline\.arch: unknown architecture 'vgg16'/);
  bad({ methods: [{ name: 'a', loss: 'ce' }], colour: 1 }, /^spec\.json: colour: unknown field/);
  bad({ methods: [{ name: 'a' }] }, /^spec\.json: methods\[0\]\.loss: is required/);
  bad({ methods: [{ name: 'a', loss: 'ls' }], control: 'a' }, /^spec\.json: control: 'a' has loss ls/);
  bad({ methods: [{ name: 'a', loss: 'focus' }], axis: { field: 'baselineEpochs', values: [1, 0] } }, /^spec\.json: axis\.values\[1\]: 0: expected a positive number of epochs/);
  const s = E.parseSpec({ methods: [{ name: 'x', loss: 'focus', rule: 'SOFTMAX' }] }, 'spec.json', D);
  assert.is(s.methods[0].rule, 'softmax');
  assert.equal(s.seeds, [1, 2, 3, 4, 5]);
  assert.equal(s.baseline, { arch: 'mlp', epochs: 2, schedule: 'multistep' });
});

const baseOpts = (extra = {}) => ({
  data: '/tmp/x', arch: 'mlp', epochs: 2, batchSize: 16, lr: 0.1, momentum: 0.9, weightDecay: 1e-4, schedule: 'multistep',
  warmupSteps: 3, seed: 1, loss: 'focus', out: '/tmp/o',
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  ...extra,
});

test('presets expand into shared baselines, runs, rows and comparisons', () => {
  const d = { ...D, seeds: [1, 2, 3] };
  const methods = E.buildPlan(E.presetSpec('methods', d), baseOpts());
  assert.is(methods.baselines.length, 3, 'one baseline per seed');
  assert.is(methods.runs.length, 12, '4 methods × 3 seeds');
  for (const r of methods.runs) {
    if (r.method.loss === 'focus' || r.method.loss === 'kd') assert.is(r.baseline.seed, r.seed, 'a run is guided by the baseline of its own seed');
    else assert.is(r.baseline, null);
  }
  assert.ok(methods.comparisons.some((c) => c.row === 'focusnet' && c.ref === 'ce-control' && c.kind === 'control'));
  assert.ok(methods.comparisons.some((c) => c.row === 'focusnet' && c.ref === 'baseline'));
  // the ablation's full loss is the methods preset's FocusNet: the same trainings, found by id
  const ablation = E.buildPlan(E.presetSpec('ablation', d), baseOpts());
  const ids = (p, name) => p.runs.filter((r) => r.method.name === name).map((r) => r.id);
  assert.equal(ids(ablation, 'focusnet'), ids(methods, 'focusnet'));
  assert.equal(ids(ablation, 'ce-control'), ids(methods, 'ce-control'));
  assert.equal(ablation.runs.find((r) => r.method.name === 'lcls').options, { alpha: 0, beta: 0, rule: 'positive-logit', temperature: 2, labelSmoothing: 0, impl: 'fused' });
  // a changed schedule flag gives other ids
  const other = E.buildPlan(E.presetSpec('methods', d), baseOpts({ lr: 0.05 }));
  assert.not.equal(ids(other, 'focusnet'), ids(methods, 'focusnet'));
  // weak-baseline: baselines of 1..E0 epochs at a constant lr, one track per seed
  const weak = E.buildPlan(E.presetSpec('weak-baseline', { ...d, baselineEpochs: 3 }), baseOpts());
  assert.is(weak.baselines.length, 9);
  assert.is(weak.runs.length, 3 * (1 + 3), 'the CE control once per seed, FocusNet per baseline');
  const tracks = E.tracksFor(weak.baselines, weak.schedule);
  assert.is(tracks.length, 3);
  assert.equal(tracks[0].snapshots.map((b) => b.epochs), [1, 2, 3]);
  assert.ok(weak.comparisons.some((c) => c.row === 'focusnet@2' && c.ref === 'baseline@2'));
  // other schedules depend on the total epochs: no sharing
  const weakMs = E.buildPlan(E.parseSpec({ methods: [{ name: 'f', loss: 'focus' }], axis: { field: 'baselineEpochs', values: [1, 2] } }, 's', d), baseOpts());
  assert.is(E.tracksFor(weakMs.baselines, weakMs.schedule).length, 6);
  // cross-arch needs the baseline's architecture
  assert.throws(() => E.presetSpec('cross-arch', d), /--preset cross-arch needs --baseline-arch/);
  const cross = E.buildPlan(E.presetSpec('cross-arch', { ...d, baselineArch: 'lenet5' }), baseOpts());
  assert.ok(cross.baselines.every((b) => b.arch === 'lenet5'));
  assert.throws(() => E.presetSpec('nope', d), /--preset nope: unknown preset \(known: methods, ablation, cross-arch, weak-baseline, rules\)/);
  const rules = E.buildPlan(E.presetSpec('rules', d), baseOpts());
  assert.ok(rules.comparisons.some((c) => c.row === 'focusnet-softmax' && c.ref === 'focusnet' && c.kind === 'method'));
});

test('summary.md and index.html from a results.jsonl: the worked example, self-contained page', () => {
  const out = tmp();
  const spec = E.parseSpec({ name: 'demo', seeds: [1, 2, 3, 4, 5], methods: [{ name: 'ce-control', loss: 'ce' }, { name: 'focusnet', loss: 'focus' }] }, 's', D);
  const plan = E.buildPlan(spec, baseOpts());
  const top1 = { 'ce-control': [89.0, 89.0, 89.0, 89.0, 89.0], focusnet: [89.6, 89.2, 89.0, 89.4, 88.8] };
  const lines = [];
  for (const r of plan.runs) lines.push({ id: r.id, kind: 'run', seed: r.seed, top1: top1[r.method.name][r.seed - 1], top5: 99, seconds: 1, config: r.config });
  // the baseline of seed 5 diverged; seed 4's is missing (not run yet)
  for (const b of plan.baselines) if (b.seed < 4) lines.push({ id: b.id, kind: 'baseline', seed: b.seed, top1: 88, top5: 99, seconds: 1, config: b.config });
  lines.push({ id: plan.baselines[4].id, kind: 'baseline', seed: 5, top1: null, top5: null, diverged: true, seconds: 1, config: {} });
  writeFileSync(join(out, 'results.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"id": "cut-sh');
  E.writeRegistry(out, { format: 'focusnet-experiment', experiments: { demo: { spec, schedule: plan.schedule, rows: plan.rows, comparisons: plan.comparisons, trainImages: 96, testImages: 40, dataFormat: 'idx', updated: '' } } });
  E.writeExperimentReport(out);
  const md = readFileSync(join(out, 'summary.md'), 'utf8');
  assert.match(md, /\| `focusnet` \| FocusNet \| 5 \| 89\.20 ± 0\.32 \| 99\.00 ± 0\.00 \| 89\.60 \/ 89\.20 \/ 89\.00 \/ 89\.40 \/ 88\.80 \|/);
  assert.match(md, /\| `focusnet` \| `ce-control` \(CE control\) \| 5 \| \+0\.20 \| \[−0\.19, \+0\.59\] \| 3 \/ 1 \/ 1 \|/);
  assert.match(md, /\| `baseline` \|.*\| 3 \| 88\.00 ± 0\.00 \|.*diverged on seed 5; not run yet: seed 4/);
  assert.match(md, /\| `focusnet` \| `baseline` \| 3 \| \+1\.27 \|/);
  assert.match(md, /Student's t distribution with n − 1 degrees of freedom/);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /<svg[^>]*>/);
  assert.match(html, /\[−0\.19, \+0\.59\]/);
  assert.not.match(html, /(src|href)\s*=\s*["']?(https?:|\/\/)/i, 'no network resources');
  assert.not.match(html, /<script/i);
});

test.run();
