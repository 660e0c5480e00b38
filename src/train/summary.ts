// What a finished run writes about itself: summary.json (each stage's top-1/top-5 and the run's
// facts), predictions.json (both final models' test predictions, for the report's confusion
// matrices) and the closing table printed to stdout.
import { hostFiles, join } from '../platform/files.js';
import { needsBaseline } from './objective.js';
import { RunContext } from './context.js';
import { EpochRecord, Summary } from './options.js';
import { writeFileAtomic } from './safetensors.js';

/**
 * predictions.json: the test labels and both final models' predicted classes (the stage-2
 * model's under "focusnet", whatever the method), for the report's confusion matrices. Written
 * when both stages' predictions were collected (not when stage 2 was resumed already finished,
 * nor without a baseline); the report then recomputes them from the checkpoints.
 */
export function writePredictions(ctx: RunContext): void {
  const { baseline, stage2 } = ctx.predictions;
  const test = ctx.test;
  if (!baseline || !stage2 || baseline.length !== test.n || stage2.length !== test.n) return;
  const body = { labels: Array.from(test.labels), baseline, focusnet: stage2, classes: ctx.ds.classNames, stage2: ctx.stage2Name };
  writeFileAtomic(join(ctx.o.out, 'predictions.json'), JSON.stringify(body));
}

/** The run's facts that summary.json holds after the stages' results. */
export interface RunFacts {
  wantBaseline: boolean;
  baselineArch: string;
  baselineEpochs: number;
  baselineSeconds: number;
  /** null: stage 2 was not trained (stages: 'baseline') */
  stage2Seconds: number | null;
  /** when train() started (performance.now()) */
  started: number;
}

/** Complete `summary` (the stages' results already in it) and write summary.json atomically. */
export function writeSummary(ctx: RunContext, summary: Summary, f: RunFacts): void {
  const { o, ds, train, test } = ctx;
  const stage2Epochs = ctx.history.filter((h) => h.stage === ctx.stage2Name);
  const meanEpoch = stage2Epochs.length ? stage2Epochs.reduce((a, h) => a + h.train_seconds, 0) / stage2Epochs.length : NaN;
  const total = ctx.history.reduce((a, h) => a + h.seconds, 0);
  const s2 = f.stage2Seconds !== null;
  Object.assign(summary, {
    method: s2 ? o.loss : null,
    stage2: s2 ? ctx.stage2Name : null,
    arch: o.arch,
    baseline_arch: f.wantBaseline ? (o.baseline ? 'checkpoint' : f.baselineArch) : null,
    epochs: { baseline: f.wantBaseline && !o.baseline ? f.baselineEpochs : 0, ...(s2 ? { [ctx.stage2Name]: o.epochs } : {}) },
    seconds: total,
    stage_seconds: { baseline: f.baselineSeconds, ...(s2 ? { [ctx.stage2Name]: f.stage2Seconds } : {}) },
    stage2_train_seconds_per_epoch: meanEpoch,
    cache_baseline: s2 && !!o.cacheBaseline && !ctx.augment && needsBaseline(o.loss),
    seed: o.seed,
    batch_size: o.batchSize,
    lr: o.lr,
    data: o.data,
    format: ds.format,
    train_images: train.n,
    test_images: test.n,
    wall_seconds_this_run: (performance.now() - f.started) / 1000,
  });
  writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
}

/** The closing table: baseline against FocusNet (or the comparison method). */
export function summaryTable(summary: Summary, history: EpochRecord[]): string[] {
  const rows: string[][] = [['model', 'epochs', 'top-1 %', 'top-5 %', 'time']];
  const names = ['baseline', String(summary.stage2 ?? 'focusnet')];
  for (const n of names) {
    const r = summary[n] as { top1: number; top5: number } | undefined;
    if (!r) continue;
    const hs = history.filter((h) => h.stage === n);
    const sec = hs.reduce((a, h) => a + h.seconds, 0);
    rows.push([n, hs.length ? String(hs.length) : '-', r.top1.toFixed(2), r.top5.toFixed(2), hs.length ? `${sec.toFixed(0)} s` : '-']);
  }
  const b = summary.baseline;
  const f = summary[names[1]] as { top1: number } | undefined;
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('   '));
  lines.splice(1, 0, w.map((x) => '-'.repeat(x)).join('   '));
  if (b && f) lines.push(`${names[1]} vs baseline: ${f.top1 - b.top1 >= 0 ? '+' : ''}${(f.top1 - b.top1).toFixed(2)} points top-1`);
  return lines;
}
