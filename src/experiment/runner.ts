// Runs an experiment's grid, each cell an ordinary training by the trainer's `train()`
// in its own folder under the experiment folder:
//   baselines/<id>/  a CE baseline: stage 1 of `train` alone (the trainer's stages:
//                    'baseline'), its checkpoint copied out as baseline-e<k>.safetensors
//                    after each epoch k a method asks for (the trainer's onCheckpoint);
//   runs/<id>/       a stage-2 training (FocusNet, CE, LS or KD) given that baseline's
//                    file as TrainOptions.baseline, so it is trained exactly as stage 2
//                    of `focusnet train --seed S` would be.
// A finished cell (a line in results.jsonl and its files present) is skipped; a cell
// with a checkpoint continues through the trainer's own `resume`. Seeds go outermost.
import { hostFiles, join, relative } from '../platform/files.js';
import { train, prepareData, stageTwoName, StoppedError, DivergedError } from '../train/trainer.js';
import type { TrainOptions, Summary, EpochRecord } from '../train/trainer.js';
import { readSafetensorsFile, writeFileAtomic } from '../train/safetensors.js';
import { DataError } from '../data/errors.js';
import { readTextFile, readDataFile } from '../data/node/files.js';
import { FocusnetError } from '../errors.js';
import { BaselineCell, Plan, RunCell, Track, objectiveFor, tracksFor } from './grid.js';
import { Ledger, ResultLine } from './ledger.js';

/** The experiment's files, through the platform seam (Node only). */
const fs = () => hostFiles('experiment.runExperimentCommand');

export interface RunnerOptions {
  out: string;
  /** the command line's training options (schedule, data, …); each cell overrides its own */
  base: TrainOptions;
  prepared: ReturnType<typeof prepareData>;
  log: (line: string) => void;
  /** called after every finished cell (the command rewrites summary.md and index.html) */
  onCell?: () => void;
  /** testing aid: stop (as if killed) after this many epochs trained in this call */
  stopAfterEpochs?: number;
}

/** A baseline every run of one seed needs has diverged: the experiment cannot go on. */
export class ExperimentStopped extends FocusnetError {
  constructor(message: string) {
    super(message);
    this.name = 'ExperimentStopped';
  }
}

export const trackDir = (out: string, id: string) => join(out, 'baselines', id);
export const runDir = (out: string, id: string) => join(out, 'runs', id);
const snapshotName = (epochs: number) => `baseline-e${epochs}.safetensors`;

/** Epochs a checkpoint holds (0 when there is none). */
export function checkpointEpoch(path: string): number {
  if (!fs().exists(path)) return 0;
  const e = Number(readSafetensorsFile(path).metadata.epoch);
  if (!Number.isInteger(e) || e < 0) throw new DataError(path, `metadata "epoch" is not a whole number; remove the folder to retrain this cell`);
  return e;
}

export function baselineDone(ledger: Ledger, out: string, b: BaselineCell): ResultLine | null {
  const r = ledger.get(b.id);
  return r && typeof r.file === 'string' && fs().exists(join(out, r.file)) ? r : null;
}

export function runDone(ledger: Ledger, out: string, c: RunCell): ResultLine | null {
  const r = ledger.get(c.id);
  if (!r) return null;
  return r.diverged || fs().exists(join(runDir(out, c.id), 'summary.json')) ? r : null;
}

class Budget {
  left: number;
  constructor(n: number | undefined) {
    this.left = n ?? Infinity;
  }
  /** stopAfterEpochs for a training that needs `need` epochs (undefined: no stop) */
  limit(need: number): number | undefined {
    if (this.left <= 0) throw new StoppedError('experiment stopped (stopAfterEpochs)');
    return this.left < need ? this.left : undefined;
  }
}

function epochSeconds(history: EpochRecord[], stage: string, upTo: number): number {
  return history.filter((h) => h.stage === stage && h.epoch <= upTo).reduce((a, h) => a + h.seconds, 0);
}

export async function runPlan(plan: Plan, o: RunnerOptions): Promise<{ trained: number; skipped: number }> {
  const ledger = new Ledger(o.out);
  const budget = new Budget(o.stopAfterEpochs);
  const todo = plan.baselines.filter((b) => !baselineDone(ledger, o.out, b));
  const tracks = tracksFor(todo, plan.schedule);
  let trained = 0;
  let skipped = plan.baselines.length - todo.length;
  let n = skipped;
  // "[3/12]", or "[3–5/12]" for a baseline track that yields three baselines
  const head = (what: string, count = 1) => {
    const first = n + 1;
    n += count;
    o.log(`\n== [${count > 1 ? `${first}–${n}` : first}/${plan.baselines.length + plan.runs.length}] ${what}`);
  };
  for (const seed of plan.spec.seeds) {
    for (const t of tracks.filter((x) => x.seed === seed)) {
      const what = (ks: number[]) =>
        `baseline ${t.arch}, ${ks.join(', ')} epoch${ks.length === 1 && ks[0] === 1 ? '' : 's'} (${t.schedule} lr${ks.length > 1 ? ': one training, a copy after each' : ''}), seed ${seed}: ${relative(o.out, trackDir(o.out, t.id))}`;
      await runTrack(t, o, ledger, budget, (ks) => head(what(ks), ks.length), () => o.onCell?.());
      trained += t.snapshots.length;
    }
    for (const c of plan.runs.filter((r) => r.seed === seed)) {
      if (runDone(ledger, o.out, c)) {
        skipped++;
        n++;
        continue;
      }
      head(`${c.method.name} (${c.method.loss}) seed ${seed}${c.axisValue === null ? '' : `, ${plan.spec.axis!.field} ${c.axisValue}`}: ${relative(o.out, runDir(o.out, c.id))}`);
      await runCell(c, plan, o, ledger, budget);
      trained++;
      o.onCell?.();
    }
  }
  if (ledger.skipped) o.log(`note: ${ledger.skipped} unreadable line(s) in results.jsonl were skipped (a line cut short by a kill); their cells were run again`);
  return { trained, skipped };
}

/**
 * Train one baseline track (stage 1 alone, to its last snapshot's epochs) and record each
 * snapshot as its epoch's checkpoint is written; a track part-way continues from its
 * checkpoint (the trainer's resume), and snapshots already recorded are not recorded again.
 */
async function runTrack(t: Track, o: RunnerOptions, ledger: Ledger, budget: Budget, head: (epochs: number[]) => void, onCell: () => void): Promise<void> {
  const dir = trackDir(o.out, t.id);
  const ck = join(dir, 'checkpoint-baseline.safetensors');
  const log = (s: string) => o.log(`  ${s}`);
  const pending = t.snapshots.filter((snap) => !baselineDone(ledger, o.out, snap));
  if (!pending.length) return;
  const opts: TrainOptions = {
    ...o.base,
    arch: t.arch,
    baselineArch: t.arch,
    baseline: undefined,
    stages: 'baseline',
    loss: 'ce',
    epochs: t.epochs,
    baselineEpochs: t.epochs,
    schedule: t.schedule,
    seed: t.seed,
    out: dir,
    resume: true,
    cacheBaseline: false,
    log,
  };
  // the snapshot of epoch k: a copy of the checkpoint written after epoch k, then its results line
  const record = (epoch: number) => {
    const snap = pending.find((x) => x.epochs === epoch);
    if (!snap || baselineDone(ledger, o.out, snap)) return;
    const file = join(dir, snapshotName(epoch));
    if (!fs().exists(file)) writeFileAtomic(file, readDataFile(ck, 'checkpoint'));
    recordSnapshot(snap, file, o, ledger);
    onCell();
  };
  head(pending.map((x) => x.epochs));
  let done = checkpointEpoch(ck);
  for (const snap of pending.filter((x) => x.epochs <= done)) {
    // trained before an interruption: its copy was made when its epoch ended, or the
    // checkpoint is still at its epoch (killed between the checkpoint and the copy)
    if (fs().exists(join(dir, snapshotName(snap.epochs)))) recordSnapshot(snap, join(dir, snapshotName(snap.epochs)), o, ledger);
    else if (done === snap.epochs) record(snap.epochs);
    else throw new DataError(dir, `the baseline checkpoint is at epoch ${done}, past the wanted ${snap.epochs}, and ${snapshotName(snap.epochs)} is missing; remove the folder to retrain it`);
  }
  if (done >= t.epochs) return;
  const need = t.epochs - done;
  const limit = budget.limit(need);
  try {
    await train({ ...opts, stopAfterEpochs: limit, onCheckpoint: (c) => record(c.epoch) }, o.prepared);
  } catch (e) {
    if (e instanceof StoppedError) throw new StoppedError(`experiment stopped after ${o.stopAfterEpochs} epochs (stopAfterEpochs)`);
    if (e instanceof DivergedError) throw new ExperimentStopped(`baseline ${t.arch} seed ${t.seed} (${dir}) diverged, so the runs it guides cannot be trained: ${e.message}`);
    throw e;
  }
  budget.left -= need;
  done = checkpointEpoch(ck);
  const missing = pending.find((x) => !baselineDone(ledger, o.out, x));
  if (missing) throw new FocusnetError(`internal: the baseline training in ${dir} ended at epoch ${done} without a snapshot of epoch ${missing.epochs}`);
}

/** Check a snapshot file and append its results line. */
function recordSnapshot(snap: BaselineCell, file: string, o: RunnerOptions, ledger: Ledger): void {
  const meta = readSafetensorsFile(file).metadata;
  if (Number(meta.epoch) !== snap.epochs) throw new DataError(file, `holds epoch ${meta.epoch}, not ${snap.epochs}; remove the folder to retrain it`);
  const history = JSON.parse(meta.history ?? '[]') as EpochRecord[];
  const last = history.filter((h) => h.stage === 'baseline' && h.epoch === snap.epochs).pop();
  if (!last) throw new DataError(file, `has no record of its epoch ${snap.epochs}; remove the folder to retrain it`);
  const r: ResultLine = {
    id: snap.id,
    kind: 'baseline',
    arch: snap.arch,
    seed: snap.seed,
    epochs: snap.epochs,
    schedule: snap.schedule,
    top1: last.test_top1,
    top5: last.test_top5,
    seconds: epochSeconds(history, 'baseline', snap.epochs),
    file: relative(o.out, file),
    config: snap.config,
    finished: new Date().toISOString(),
  };
  ledger.append(r);
  o.log(`  baseline ${snap.arch} ${snap.epochs} epoch${snap.epochs === 1 ? '' : 's'} seed ${snap.seed}: top-1 ${r.top1.toFixed(2)}%  top-5 ${r.top5.toFixed(2)}%`);
}

async function runCell(c: RunCell, plan: Plan, o: RunnerOptions, ledger: Ledger, budget: Budget): Promise<void> {
  const dir = runDir(o.out, c.id);
  const stage2 = stageTwoName(c.method.loss);
  const log = (s: string) => o.log(`  ${s}`);
  let baseline: string | undefined;
  if (c.baseline) {
    const b = baselineDone(ledger, o.out, c.baseline);
    if (!b) throw new FocusnetError(`internal: baseline ${c.baseline.id} of ${c.id} is not trained`);
    baseline = join(o.out, b.file as string);
  }
  const opts: TrainOptions = {
    ...o.base,
    arch: plan.spec.arch,
    loss: c.method.loss,
    objective: objectiveFor(c, o.base.objective),
    seed: c.seed,
    out: dir,
    resume: true,
    baseline,
    baselineArch: c.baseline?.arch,
    baselineEpochs: c.baseline?.epochs,
    cacheBaseline: !!c.baseline && plan.schedule.cacheBaseline,
    log,
  };
  let summary: Summary;
  const sumPath = join(dir, 'summary.json');
  const done = checkpointEpoch(join(dir, `checkpoint-${stage2}.safetensors`));
  if (done >= opts.epochs && fs().exists(sumPath)) {
    // trained to the end before an interruption that came before its results line
    summary = JSON.parse(readTextFile(sumPath, 'summary')) as Summary;
  } else {
    const need = opts.epochs - done;
    const limit = budget.limit(need);
    try {
      summary = await train({ ...opts, stopAfterEpochs: limit }, o.prepared);
    } catch (e) {
      if (e instanceof StoppedError) throw new StoppedError(`experiment stopped after ${o.stopAfterEpochs} epochs (stopAfterEpochs)`);
      if (!(e instanceof DivergedError)) throw e;
      // a diverged run is a result of its method on this seed: recorded, never silently dropped
      ledger.append({ ...resultBase(c), top1: NaN, top5: NaN, seconds: NaN, diverged: true, message: e.message });
      o.log(`  ${c.method.name} seed ${c.seed} diverged: ${e.message}`);
      return;
    }
    budget.left -= need;
  }
  const r = summary[stage2] as { top1: number; top5: number } | undefined;
  if (!r) throw new DataError(sumPath, `has no "${stage2}" result`);
  ledger.append({
    ...resultBase(c),
    top1: r.top1,
    top5: r.top5,
    seconds: Number(summary.seconds),
    baseline_top1: summary.baseline?.top1 ?? null,
    cached_baseline: !!summary.cache_baseline,
  });
  o.log(`  ${c.method.name} seed ${c.seed}: top-1 ${r.top1.toFixed(2)}%  top-5 ${r.top5.toFixed(2)}%`);
}

function resultBase(c: RunCell) {
  return {
    id: c.id,
    kind: 'run' as const,
    method: c.method.name,
    loss: c.method.loss,
    options: c.options,
    arch: String(c.config.arch),
    seed: c.seed,
    baseline: c.baseline?.id ?? null,
    config: c.config,
    finished: new Date().toISOString(),
  };
}
