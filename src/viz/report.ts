// The run report: confusion matrices of the baseline and of FocusNet (heatmap PNGs),
// the class pairs whose confusion FocusNet reduced or increased most, per-class
// accuracy, and training curves, gathered in index.html inside the run folder.
//
// Inputs in the run folder: metrics.jsonl (required: one JSON object per stage and
// epoch), summary.json (optional), predictions.json (optional:
// { labels, baseline, focusnet, classes }; without it the confusion sections are
// left out unless predictions are passed in).

import { hostFiles, join } from '../platform/files.js';
import { writeOutputFile } from '../train/out-folder.js';
import { lineChart, confusionHeatmap, Series } from './charts.js';
import { VizInputError } from './errors.js';

export interface EpochMetrics {
  stage: string;
  epoch: number;
  loss?: number;
  train_acc?: number;
  test_top1?: number;
  test_top5?: number;
  lr?: number;
  [k: string]: unknown;
}

export interface Predictions {
  labels: number[];
  baseline: number[];
  focusnet: number[];
  classes?: string[];
}

/** counts[t][p]: how many samples of true class t were predicted as p. */
export function confusionMatrix(labels: ArrayLike<number>, preds: ArrayLike<number>, numClasses: number): number[][] {
  if (labels.length !== preds.length) throw new VizInputError(`confusion matrix: ${labels.length} labels but ${preds.length} predictions`);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = preds[i];
    if (!(Number.isInteger(t) && t >= 0 && t < numClasses)) throw new VizInputError(`confusion matrix: label ${t} at ${i} is outside 0..${numClasses - 1}`);
    if (!(Number.isInteger(p) && p >= 0 && p < numClasses)) throw new VizInputError(`confusion matrix: prediction ${p} at ${i} is outside 0..${numClasses - 1}`);
    m[t][p]++;
  }
  return m;
}

/** Per-class accuracy (diagonal over row sum; NaN for classes with no samples). */
export function perClassAccuracy(m: number[][]): number[] {
  return m.map((row, i) => {
    const s = row.reduce((a, b) => a + b, 0);
    return s ? row[i] / s : NaN;
  });
}

export interface PairChange {
  a: number;
  b: number;
  /** samples of a predicted as b plus samples of b predicted as a */
  baseline: number;
  focusnet: number;
  delta: number;
}

/** Unordered class pairs with their mutual confusion in both models, sorted by change (most reduced first). */
export function pairChanges(mb: number[][], mf: number[][]): PairChange[] {
  const n = mb.length;
  const out: PairChange[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const base = mb[a][b] + mb[b][a];
      const foc = mf[a][b] + mf[b][a];
      if (base === 0 && foc === 0) continue;
      out.push({ a, b, baseline: base, focusnet: foc, delta: foc - base });
    }
  }
  out.sort((x, y) => x.delta - y.delta || y.baseline - x.baseline || x.a - y.a || x.b - y.b);
  return out;
}

export function readMetrics(runDir: string): EpochMetrics[] {
  const fs = hostFiles('viz.readMetrics');
  const p = join(runDir, 'metrics.jsonl');
  if (!fs.exists(runDir) || !fs.stat(runDir).isDirectory()) throw new VizInputError(`--run: ${runDir} is not a folder`);
  if (!fs.exists(p)) throw new VizInputError(`--run: ${runDir} has no metrics.jsonl (is it a training run folder? \`focusnet train --out DIR\` writes one)`);
  const lines = fs.readText(p).split('\n').filter((l) => l.trim());
  const rows: EpochMetrics[] = [];
  lines.forEach((l, i) => {
    let o: unknown;
    try {
      o = JSON.parse(l);
    } catch {
      throw new VizInputError(`${p}:${i + 1}: not valid JSON`);
    }
    if (!o || typeof o !== 'object' || typeof (o as EpochMetrics).stage !== 'string' || typeof (o as EpochMetrics).epoch !== 'number') {
      throw new VizInputError(`${p}:${i + 1}: expected an object with "stage" and "epoch"`);
    }
    rows.push(o as EpochMetrics);
  });
  if (!rows.length) throw new VizInputError(`${p} is empty: no epoch has been recorded`);
  return rows;
}

export function readPredictions(runDir: string): Predictions | null {
  const fs = hostFiles('viz.readPredictions');
  const p = join(runDir, 'predictions.json');
  if (!fs.exists(p)) return null;
  let o: Predictions;
  try {
    o = JSON.parse(fs.readText(p));
  } catch {
    throw new VizInputError(`${p}: not valid JSON`);
  }
  for (const k of ['labels', 'baseline', 'focusnet'] as const) {
    if (!Array.isArray(o[k])) throw new VizInputError(`${p}: "${k}" must be an array of class indices`);
  }
  if (o.baseline.length !== o.labels.length || o.focusnet.length !== o.labels.length) {
    throw new VizInputError(`${p}: ${o.labels.length} labels but ${o.baseline.length} baseline and ${o.focusnet.length} focusnet predictions`);
  }
  return o;
}

const BASE_COLOR: [number, number, number] = [31, 119, 180];
const FOCUS_COLOR: [number, number, number] = [214, 39, 40];

function seriesOf(rows: EpochMetrics[], stage: string, key: string, name: string, color: [number, number, number], dashed = false): Series | null {
  const points = rows
    .filter((r) => r.stage === stage && typeof r[key] === 'number' && Number.isFinite(r[key] as number))
    .map((r) => [r.epoch, r[key] as number] as [number, number])
    .sort((a, b) => a[0] - b[0]);
  return points.length ? { name, color, points, dashed } : null;
}

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function pct(v: number): string {
  return Number.isFinite(v) ? (100 * v).toFixed(1) + '%' : '–';
}

export interface ReportOptions {
  /** predictions to use when the run folder has no predictions.json */
  predictions?: Predictions;
  /** how many pairs to list each way */
  topPairs?: number;
}

export interface ReportFiles {
  index: string;
  files: string[];
}

/** Write the report (PNG charts and index.html) into `runDir`; returns the files written. */
export async function buildReport(runDir: string, opts: ReportOptions = {}): Promise<ReportFiles> {
  const fs = hostFiles('viz.buildReport');
  const rows = readMetrics(runDir);
  let summary: Record<string, unknown> | null = null;
  const sp = join(runDir, 'summary.json');
  if (fs.exists(sp)) {
    try {
      summary = JSON.parse(fs.readText(sp));
    } catch {
      throw new VizInputError(`${sp}: not valid JSON`);
    }
  }
  const preds = readPredictions(runDir) ?? opts.predictions ?? null;
  const outDir = runDir;
  const files: string[] = [];
  // each file atomically; a file-system failure names the run folder's flag and the file
  const put = (name: string, png: Uint8Array) => {
    writeOutputFile(join(outDir, name), png, 'focusnet report: --run');
    files.push(name);
  };

  // Training curves.
  const stages = [...new Set(rows.map((r) => r.stage))];
  const colorOf = (s: string) => (s === 'baseline' ? BASE_COLOR : s === 'focusnet' ? FOCUS_COLOR : ([44, 160, 44] as [number, number, number]));
  const lossSeries = stages.map((s) => seriesOf(rows, s, 'loss', `${s} loss`, colorOf(s))).filter((s): s is Series => !!s);
  const accSeries = stages
    .flatMap((s) => [seriesOf(rows, s, 'test_top1', `${s} test top-1`, colorOf(s)), seriesOf(rows, s, 'train_acc', `${s} train`, colorOf(s), true)])
    .filter((s): s is Series => !!s);
  put('loss.png', lineChart(lossSeries, { title: 'Training loss', xLabel: 'epoch', yLabel: 'loss' }).toPng());
  put('accuracy.png', lineChart(accSeries, { title: 'Accuracy', xLabel: 'epoch', yLabel: 'accuracy' }).toPng());

  // Confusion.
  let confusionHtml = '<p class="note">No predictions.json in this run folder: confusion matrices need the test-split predictions of both models (<code>focusnet report --run DIR --data DIR --arch ARCH</code> computes them from the checkpoints).</p>';
  if (preds) {
    let n = preds.classes?.length ?? 0;
    for (const arr of [preds.labels, preds.baseline, preds.focusnet]) for (const v of arr) if (v + 1 > n) n = v + 1;
    const classes = Array.from({ length: n }, (_, i) => preds.classes?.[i] ?? String(i));
    const mb = confusionMatrix(preds.labels, preds.baseline, n);
    const mf = confusionMatrix(preds.labels, preds.focusnet, n);
    put('confusion_baseline.png', confusionHeatmap(mb, { title: 'Baseline', classes }).toPng());
    put('confusion_focusnet.png', confusionHeatmap(mf, { title: 'FocusNet', classes }).toPng());
    const diff = mf.map((r, i) => r.map((v, j) => v - mb[i][j]));
    put('confusion_diff.png', confusionHeatmap(diff, { title: 'FocusNet - baseline', classes, mode: 'diff' }).toPng());
    const acc = (m: number[][]) => m.reduce((a, r, i) => a + r[i], 0) / Math.max(1, preds.labels.length);
    const pairs = pairChanges(mb, mf);
    const k = opts.topPairs ?? 10;
    const reduced = pairs.filter((p) => p.delta < 0).slice(0, k);
    const increased = pairs.filter((p) => p.delta > 0).reverse().slice(0, k);
    const pairRows = (ps: PairChange[]) =>
      ps.length
        ? ps.map((p) => `<tr><td>${esc(classes[p.a])} ↔ ${esc(classes[p.b])}</td><td>${p.baseline}</td><td>${p.focusnet}</td><td class="${p.delta < 0 ? 'good' : 'bad'}">${p.delta > 0 ? '+' : ''}${p.delta}</td></tr>`).join('\n')
        : '<tr><td colspan="4">none</td></tr>';
    const pcb = perClassAccuracy(mb);
    const pcf = perClassAccuracy(mf);
    const perClass = classes
      .map((c, i) => {
        const d = pcf[i] - pcb[i];
        return `<tr><td>${esc(c)}</td><td>${mb[i].reduce((a, b) => a + b, 0)}</td><td>${pct(pcb[i])}</td><td>${pct(pcf[i])}</td><td class="${d > 0 ? 'good' : d < 0 ? 'bad' : ''}">${Number.isFinite(d) ? (d > 0 ? '+' : '') + (100 * d).toFixed(1) : '–'}</td></tr>`;
      })
      .join('\n');
    const pairHead = '<tr><th>pair</th><th>baseline</th><th>FocusNet</th><th>change</th></tr>';
    confusionHtml = `
<p>Test samples: ${preds.labels.length}. Top-1 from these predictions: baseline ${pct(acc(mb))}, FocusNet ${pct(acc(mf))}.</p>
<div class="row">
  <figure><img src="confusion_baseline.png" alt="baseline confusion matrix"><figcaption>Baseline confusion matrix</figcaption></figure>
  <figure><img src="confusion_focusnet.png" alt="FocusNet confusion matrix"><figcaption>FocusNet confusion matrix</figcaption></figure>
  <figure><img src="confusion_diff.png" alt="difference of confusion matrices"><figcaption>FocusNet minus baseline (red: more samples, blue: fewer; the diagonal counts correct predictions)</figcaption></figure>
</div>
<h2>Class pairs</h2>
<p>Mutual confusion of a pair: samples of one class predicted as the other, both ways.</p>
<div class="row">
<table><caption>Confusion reduced most</caption>${pairHead}${pairRows(reduced)}</table>
<table><caption>Confusion increased most</caption>${pairHead}${pairRows(increased)}</table>
</div>
<h2>Per-class accuracy</h2>
<table><tr><th>class</th><th>samples</th><th>baseline</th><th>FocusNet</th><th>change (points)</th></tr>
${perClass}
</table>`;
  }

  let summaryHtml = '';
  if (summary) {
    // stage 2 is FocusNet unless the run trained a comparison method (--loss ce|ls|kd)
    const stage2 = typeof summary.stage2 === 'string' ? summary.stage2 : 'focusnet';
    const cell = (st: string, key: string) => {
      const o = summary![st] as Record<string, unknown> | undefined;
      const v = o?.[key];
      return typeof v === 'number' ? v.toFixed(2) : '–';
    };
    summaryHtml = `<table><tr><th></th><th>top-1 (%)</th><th>top-5 (%)</th></tr>
<tr><td>baseline</td><td>${cell('baseline', 'top1')}</td><td>${cell('baseline', 'top5')}</td></tr>
<tr><td>${esc(stage2 === 'focusnet' ? 'FocusNet' : stage2)}</td><td>${cell(stage2, 'top1')}</td><td>${cell(stage2, 'top5')}</td></tr></table>`;
  }
  const last = (stage: string) => rows.filter((r) => r.stage === stage).sort((a, b) => b.epoch - a.epoch)[0];
  const epochsLine = stages.map((s) => `${esc(s)}: ${rows.filter((r) => r.stage === s).length} epochs (last test top-1 ${last(s)?.test_top1 ?? '–'})`).join('; ');

  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>focusnet report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1800px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; }
.row { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 13px; color: #555; }
img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 14px; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
caption { font-weight: 600; text-align: left; padding: 4px 0; }
.good { color: #1a7f37; } .bad { color: #cf222e; } .note { color: #8a6d3b; }
</style>
</head>
<body>
<h1>focusnet run report</h1>
<p>Run folder: <code>${esc(runDir)}</code>. ${epochsLine}.</p>
${summaryHtml}
<h2>Training curves</h2>
<div class="row">
  <figure><img src="loss.png" alt="loss per epoch"><figcaption>Loss per epoch (baseline: blue, FocusNet: red)</figcaption></figure>
  <figure><img src="accuracy.png" alt="accuracy per epoch"><figcaption>Test top-1 (solid) and training accuracy (dashed) per epoch</figcaption></figure>
</div>
<h2>Confusion matrices</h2>
${confusionHtml}
</body>
</html>
`;
  const index = join(outDir, 'index.html');
  writeOutputFile(index, html, 'focusnet report: --run');
  files.push('index.html');
  return { index, files };
}
