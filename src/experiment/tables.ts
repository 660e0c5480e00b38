// An experiment's numbers, ready to print: per row (a method at one axis value) the
// per-seed top-1/top-5 from results.jsonl and their mean ± sd; per comparison the
// paired differences (stats.ts). Missing seeds (not yet run) and diverged runs are
// listed, never averaged in.
import type { Comparison, Row } from './grid.js';
import { AUTO_WARMUP, autoWarmupSteps } from '../optim/schedule.js';
import type { Ledger, StoredExperiment } from './ledger.js';
import { MeanSd, PairedDifference, meanSd, pairedDifference } from './stats.js';

export interface RowStats {
  row: Row;
  top1: MeanSd;
  top5: MeanSd;
  /** seed → top-1 / top-5 of the finished runs */
  top1BySeed: Map<number, number>;
  top5BySeed: Map<number, number>;
  diverged: number[];
  missing: number[];
}

export interface ComparisonStats {
  cmp: Comparison;
  row: RowStats;
  ref: RowStats;
  top1: PairedDifference;
  top5: PairedDifference;
}

export interface ExperimentTables {
  name: string;
  stored: StoredExperiment;
  rows: RowStats[];
  comparisons: ComparisonStats[];
  finished: number;
  expected: number;
}

export function experimentTables(name: string, stored: StoredExperiment, ledger: Ledger): ExperimentTables {
  let finished = 0;
  let expected = 0;
  const seen = new Set<string>();
  const rows = stored.rows.map((row): RowStats => {
    const top1BySeed = new Map<number, number>();
    const top5BySeed = new Map<number, number>();
    const diverged: number[] = [];
    const missing: number[] = [];
    for (const seed of stored.spec.seeds) {
      const id = row.cells[seed];
      const r = id ? ledger.get(id) : undefined;
      if (id && !seen.has(id)) {
        seen.add(id);
        expected++;
        if (r) finished++;
      }
      if (!r) missing.push(seed);
      else if (r.diverged) diverged.push(seed);
      else {
        top1BySeed.set(seed, r.top1);
        top5BySeed.set(seed, r.top5);
      }
    }
    return { row, top1: meanSd([...top1BySeed.values()]), top5: meanSd([...top5BySeed.values()]), top1BySeed, top5BySeed, diverged, missing };
  });
  const byKey = new Map(rows.map((r) => [r.row.key, r]));
  const comparisons = stored.comparisons.flatMap((cmp): ComparisonStats[] => {
    const row = byKey.get(cmp.row);
    const ref = byKey.get(cmp.ref);
    if (!row || !ref) return [];
    return [{ cmp, row, ref, top1: pairedDifference(row.top1BySeed, ref.top1BySeed), top5: pairedDifference(row.top5BySeed, ref.top5BySeed) }];
  });
  return { name, stored, rows, comparisons, finished, expected };
}

// ---- formatting shared by summary.md and index.html -------------------------------------

export const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
export const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}` : '–');

export function meanSdText(m: MeanSd): string {
  if (m.n === 0) return '–';
  return m.n < 2 ? `${f2(m.mean)} (1 seed)` : `${f2(m.mean)} ± ${f2(m.sd)}`;
}

export function ciText(d: PairedDifference): string {
  if (d.n < 2) return d.n === 1 ? 'n/a (1 seed)' : '–';
  return `[${signed(d.lo)}, ${signed(d.hi)}]`;
}

export const wltText = (d: PairedDifference) => (d.n ? `${d.won} / ${d.lost} / ${d.tied}` : '–');

export function rowNotes(r: RowStats): string {
  const notes: string[] = [];
  if (r.diverged.length) notes.push(`diverged on seed${r.diverged.length > 1 ? 's' : ''} ${r.diverged.join(', ')}`);
  if (r.missing.length) notes.push(`not run yet: seed${r.missing.length > 1 ? 's' : ''} ${r.missing.join(', ')}`);
  return notes.join('; ');
}

/** The warm-up as run: 'auto' resolved for the training images at this batch size (whole batches). */
function warmupText(w: StoredExperiment['schedule']['warmupSteps'], trainImages: number, batchSize: number): string {
  if (w === 'auto') return `warm-up auto (${autoWarmupSteps(Math.floor(trainImages / batchSize))} steps: ${AUTO_WARMUP.fraction === 1 ? "one epoch's" : `${AUTO_WARMUP.fraction} of an epoch's`}, at most ${AUTO_WARMUP.cap})`;
  return w ? `warm-up ${w} steps` : 'no warm-up';
}

/** The experiment's setting in one paragraph (architecture, data, schedule, seeds). */
export function settingText(t: ExperimentTables): string {
  const { spec, schedule: s } = t.stored;
  const b = spec.baseline;
  const lr = `${s.schedule} lr ${s.lr}${s.schedule === 'multistep' ? (s.milestones ? ` (×${s.gamma ?? 0.1} at epochs ${s.milestones.join(', ')})` : ' (×0.1 at 50% and 75% of the epochs)') : ''}`;
  const baseArch = spec.axis?.field === 'baselineArch' ? spec.axis.values.join(' / ') : b.arch;
  const epochs = spec.axis?.field === 'baselineEpochs' ? spec.axis.values.map(Number) : [b.epochs];
  const baseEpochs = `${epochs.join(', ')} epoch${epochs.length === 1 && epochs[0] === 1 ? '' : 's'}`;
  return (
    `${spec.arch} on ${s.data} (${t.stored.dataFormat}, ${t.stored.trainImages} training / ${t.stored.testImages} test images); ` +
    `each method trains ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}; the baseline (${baseArch}, cross-entropy) ${baseEpochs} at a ${b.schedule} lr; ` +
    `batch ${s.batchSize}, SGD ${lr}, momentum ${s.momentum}, weight decay ${s.weightDecay}, ${warmupText(s.warmupSteps, t.stored.trainImages, s.batchSize)}; ` +
    `seeds ${spec.seeds.join(', ')}; ${t.finished} of ${t.expected} trainings finished.`
  );
}

export const STATISTICS_TEXT =
  'Every training is one run with one seed. For seed s the baseline is stage 1 of `focusnet train --seed s` and every ' +
  "method is stage 2 of it: the same initial weights and the same data order for all methods, so the CE control differs " +
  "from FocusNet only in the loss. Per method: the mean and the sample standard deviation (divided by n − 1) of the test " +
  'top-1 and top-5 accuracy over the seeds. Per comparison: the difference method − reference seed by seed, its mean, a 95% ' +
  'confidence interval from Student\'s t distribution with n − 1 degrees of freedom (mean ± t(0.975, n − 1) · sd / √n, the ' +
  'paired t interval), and the seeds won / lost / tied (top-1 higher / lower / equal). An interval that contains 0 does not ' +
  'show a difference at this level; with few seeds it is wide. No correction is made for the number of comparisons. Runs ' +
  'that diverged are listed, not averaged in.';
