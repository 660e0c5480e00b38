// `focusnet experiment --preset NAME | --spec FILE.json --data DIR --out DIR [--seeds 1,2,3]
//                     [train's schedule flags] [--dry-run]`
// Parses the command line (train's own flag table and train's own flags → TrainOptions
// mapping, handed over by cli.ts, so the defaults are train's), builds the spec and the
// grid, and either prints the grid with a time estimate (--dry-run) or runs it and
// writes results.jsonl, experiment.json, summary.md and index.html into --out.
// Bad input is an ArgError or a DataError/SpecError naming the flag, file or field
// (exit status 2); nothing is trained before all of it has been checked.
import { basename, hostFiles, resolve } from '../platform/files.js';
import { init } from '../gpu/index.js';
import { prepareData } from '../train/trainer.js';
import { createModel } from '../models/registry.js';
import type { TrainOptions } from '../train/trainer.js';
import { DataError } from '../data/errors.js';
import { readTextFile, ioReason } from '../data/node/files.js';
import { ArgError, FlagSpec, parseFlags, requireFlags } from '../util/flags.js';
import { ExperimentSpec, SpecDefaults, checkSeeds, parseSpec } from './spec.js';
import { PRESETS, presetSpec } from './presets.js';
import { buildPlan, Plan } from './grid.js';
import { readRegistry, writeRegistry } from './ledger.js';
import { runPlan } from './runner.js';
import { duration, estimateSeconds, planState, probeThroughput, PROBE_STEPS } from './estimate.js';
import { summaryMarkdown, loadTables, writeExperimentReport } from './report.js';

/** The experiment's files, through the platform seam (Node only). */
const fs = () => hostFiles('experiment.runExperimentCommand');

/** What cli.ts hands over: train's flag table and its flags → TrainOptions mapping. */
export interface TrainFlagHooks {
  flags: FlagSpec;
  options: (flags: Record<string, unknown>, cmd: string) => TrainOptions;
}

/** train's flags that experiment takes as they are (the schedule and the data). */
export const PASSED_TRAIN_FLAGS = [
  'data', 'arch', 'baseline-arch', 'epochs', 'baseline-epochs', 'batch-size', 'eval-batch-size', 'lr', 'momentum', 'weight-decay',
  'schedule', 'milestones', 'gamma', 'warmup-steps', 'loss-impl', 'out', 'cache-baseline', 'no-cache-baseline', 'augment', 'no-augment', 'mean', 'std',
  'train-limit', 'test-limit', 'num-classes', 'image-size', 'cifar100-labels', 'progress', 'log-every', 'stop-after-epochs',
];

/** train's flags that make no sense here, and what to do instead. */
const REFUSED: Record<string, string> = {
  seed: 'use --seeds 1,2,3 (a list)',
  loss: 'the methods and their losses come from the preset or the spec file',
  alpha: 'set "alpha" on a method in a --spec file',
  beta: 'set "beta" on a method in a --spec file',
  rule: 'set "rule" on a method in a --spec file (or use --preset rules)',
  'label-smoothing': 'set "labelSmoothing" on a method in a --spec file',
  temperature: 'set "temperature" on a method in a --spec file',
  'focus-label-smoothing': 'set "labelSmoothing" on a focus method in a --spec file',
  'warm-temperature': 'set "temperature" on a focus method in a --spec file',
  'kd-weight': 'set "kdWeight" on a method in a --spec file',
  baseline: 'the experiment trains its own baselines (one per seed), so that they vary with the seed',
  resume: 'the experiment always continues what is in --out',
};

const OWN_FLAGS = { preset: 'string', spec: 'string', seeds: 'list', 'dry-run': 'bool' } as const;

interface Parsed {
  spec: ExperimentSpec;
  base: TrainOptions;
  out: string;
  dryRun: boolean;
  stopAfterEpochs?: number;
}

export function parseExperimentArgs(args: readonly string[], hooks: TrainFlagHooks): Parsed {
  for (const a of args) {
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : '';
    if (name in REFUSED) throw new ArgError(`focusnet experiment: --${name} is not an experiment flag: ${REFUSED[name]} (see docs/experiments.md)`);
  }
  const table: Record<string, FlagSpec[string]> = { ...OWN_FLAGS };
  for (const n of PASSED_TRAIN_FLAGS) if (hooks.flags[n] !== undefined) table[n] = hooks.flags[n];
  const f = parseFlags('experiment', args, table) as Record<string, unknown>;
  requireFlags('experiment', f, ['data', 'out']);
  if ((f.preset === undefined) === (f.spec === undefined)) throw new ArgError(`focusnet experiment: give exactly one of --preset (${PRESETS.join(', ')}) and --spec FILE.json`);
  let seeds: number[] | undefined;
  if (f.seeds !== undefined) {
    const xs = f.seeds as number[];
    const bad = xs.find((s) => !Number.isInteger(s) || s < 0);
    if (bad !== undefined) throw new ArgError(`focusnet experiment: --seeds ${xs.join(',')}: seeds must be whole numbers >= 0 (${bad} is not)`);
    seeds = checkSeeds(xs, 'focusnet experiment', '--seeds');
  }
  const stopAfterEpochs = f['stop-after-epochs'] as number | undefined;
  const base: TrainOptions = { ...hooks.options(f, 'experiment'), stopAfterEpochs: undefined, resume: true, progress: (f.progress as TrainOptions['progress']) ?? 'auto' };
  const d: SpecDefaults = {
    arch: base.arch,
    baselineArch: f['baseline-arch'] as string | undefined,
    baselineEpochs: (f['baseline-epochs'] as number | undefined) ?? base.epochs,
    schedule: base.schedule,
    seeds,
  };
  let spec: ExperimentSpec;
  if (f.preset !== undefined) spec = presetSpec(String(f.preset), d);
  else {
    const file = String(f.spec);
    const text = readTextFile(file, 'spec');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new DataError(file, `is not valid JSON (${(e as Error).message})`);
    }
    // an unnamed spec is named after its file, so that two of them do not replace each other's record
    if (json && typeof json === 'object' && !Array.isArray(json) && !('name' in json)) {
      json = { ...json, name: basename(file).replace(/\.json$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'experiment' };
    }
    spec = parseSpec(json, file, d);
    const clash = (flag: string, given: unknown, used: unknown, field: string) => {
      if (given !== undefined && given !== used) throw new ArgError(`focusnet experiment: --${flag} ${given} contradicts ${file}'s ${field} (${used}); drop one of them`);
    };
    clash('arch', f.arch, spec.arch, 'arch');
    clash('baseline-arch', f['baseline-arch'], spec.baseline.arch, 'baseline.arch');
    clash('baseline-epochs', f['baseline-epochs'], spec.baseline.epochs, 'baseline.epochs');
  }
  return { spec, base, out: String(f.out), dryRun: !!f['dry-run'], stopAfterEpochs };
}

function printGrid(plan: Plan, out: string, log: (s: string) => void) {
  const states = planState(plan, out);
  const done = states.filter((s) => s.finished).length;
  const partial = states.filter((s) => !s.finished && s.done > 0).length;
  log(`experiment ${plan.spec.name}: ${plan.spec.seeds.length} seed(s) × (${plan.baselines.length / plan.spec.seeds.length} baseline(s) + ${plan.runs.length / plan.spec.seeds.length} run(s)) = ${states.length} trainings; ${done} finished, ${partial} part-way`);
  const w = Math.max(...states.map((s) => s.what.length));
  for (const s of states) log(`  seed ${String(s.seed).padEnd(4)} ${s.what.padEnd(w)}  ${(s.finished ? 'finished' : s.done ? `${s.done}/${s.epochs} epochs` : 'to do').padEnd(12)} ${s.id}`);
  return states;
}

/** Create --out and check that it takes files, before anything trains. */
function makeOut(out: string): void {
  try {
    // one level at a time: Node 20's recursive mkdirSync never returns under /proc
    fs().mkdir(resolve(out), { recursive: true });
    fs().access(out, 'write');
  } catch (e) {
    throw new ArgError(`focusnet experiment: --out ${out}: cannot create or write the folder (${ioReason(e)})`);
  }
}

export async function runExperimentCommand(args: string[], hooks: TrainFlagHooks): Promise<number> {
  const p = parseExperimentArgs(args, hooks);
  if (fs().exists(p.out) && !fs().stat(p.out).isDirectory()) throw new ArgError(`focusnet experiment: --out ${p.out} is a file, not a folder`);
  const registry = readRegistry(p.out); // a damaged record fails here, before any work
  const prepared = prepareData(p.base); // bad data fails here, before the GPU starts
  const augmented = p.base.augment ?? prepared.ds.augmentByDefault;
  // the baseline's logits are the same every epoch when the training split is not augmented:
  // cached there unless --no-cache-baseline (train's own default, made explicit for the ids)
  p.base.cacheBaseline = (p.base.cacheBaseline ?? true) && !augmented;
  const plan = buildPlan(p.spec, p.base);
  const log = (s: string) => console.log(s);
  await init();
  // every architecture must take these images (lenet5 wants 28×28) before anything trains
  for (const arch of new Set([plan.spec.arch, ...plan.baselines.map((b) => b.arch)])) {
    createModel(arch, { numClasses: prepared.ds.numClasses, inChannels: prepared.train.c, imageSize: prepared.train.h, seed: 0 }).dispose();
  }
  if (p.dryRun) {
    const states = printGrid(plan, p.out, log);
    const archs = [...new Set([plan.spec.arch, ...plan.baselines.map((b) => b.arch)])];
    const ips = new Map<string, number>();
    for (const a of archs) ips.set(a, await probeThroughput(a, p.base, prepared));
    const nTrain = Math.floor(prepared.train.n / p.base.batchSize) * p.base.batchSize;
    const e = estimateSeconds(plan, p.out, states, ips, nTrain, prepared.test.n);
    log(
      `estimate: ${duration(e.seconds)} for ${e.epochs} epochs still to train (${nTrain} training and ${prepared.test.n} test images each), ` +
        `from a probe run just now (${PROBE_STEPS} steps of batch ${p.base.batchSize}, timed on its second epoch): ` +
        `${[...ips].map(([a, v]) => `${a} ${v.toFixed(0)} training images/s`).join(', ')}; evaluation and the frozen baseline's forward pass ` +
        `counted at a third of a training step per image${plan.schedule.cacheBaseline ? ' (the baseline\'s logits computed once per run: --cache-baseline)' : ''}. ` +
        `Other work on this machine slows it down in proportion.`,
    );
    return 0;
  }
  makeOut(p.out);
  const old = registry.experiments[plan.spec.name];
  if (old && JSON.stringify({ s: old.schedule, p: old.spec }) !== JSON.stringify({ s: plan.schedule, p: plan.spec })) {
    log(`note: experiment '${plan.spec.name}' was recorded in ${p.out} with other settings; the record now follows this command (the earlier runs stay in results.jsonl and runs/)`);
  }
  registry.experiments[plan.spec.name] = {
    spec: plan.spec,
    schedule: plan.schedule,
    rows: plan.rows,
    comparisons: plan.comparisons,
    trainImages: prepared.train.n,
    testImages: prepared.test.n,
    dataFormat: prepared.ds.format,
    updated: new Date().toISOString(),
  };
  writeRegistry(p.out, registry);
  printGrid(plan, p.out, log);
  writeExperimentReport(p.out);
  const r = await runPlan(plan, { out: p.out, base: p.base, prepared, log, stopAfterEpochs: p.stopAfterEpochs, onCell: () => writeExperimentReport(p.out) });
  const files = writeExperimentReport(p.out);
  log(`\n${r.trained} trained, ${r.skipped} already finished.`);
  const mine = loadTables(p.out).filter((t) => t.name === plan.spec.name);
  log(summaryMarkdown(mine).split('\n').slice(4).join('\n'));
  log(`written: ${p.out}/results.jsonl, ${files.join(', ')}`);
  return 0;
}
