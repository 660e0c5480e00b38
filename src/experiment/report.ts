// summary.md and index.html of an experiment folder, rebuilt from experiment.json and
// results.jsonl alone (so a partial experiment shows what it has): per experiment
// (preset or spec) a table of the methods (mean ± sd of top-1/top-5, per-seed top-1),
// a table of the paired differences with their 95% intervals and seeds won/lost/tied,
// and in the page the same with charts (error bars; for an axis of baseline epochs the
// paper's Figure 4 curve). The page is one self-contained file: inline CSS and SVG.
import { join } from '../platform/files.js';
import { writeFileAtomic } from '../train/safetensors.js';
import { Ledger, readRegistry } from './ledger.js';
import { CurveSeries, Level, curveChart, dotChart, escapeXml } from './chart.js';
import { ExperimentTables, STATISTICS_TEXT, ciText, experimentTables, f2, meanSdText, rowNotes, settingText, signed, wltText } from './tables.js';

export function loadTables(out: string): ExperimentTables[] {
  const reg = readRegistry(out);
  const ledger = new Ledger(out);
  return Object.entries(reg.experiments).map(([name, e]) => experimentTables(name, e, ledger));
}

/** Write summary.md and index.html into the experiment folder; returns their paths. */
export function writeExperimentReport(out: string): string[] {
  const tables = loadTables(out);
  const md = join(out, 'summary.md');
  const html = join(out, 'index.html');
  writeFileAtomic(md, summaryMarkdown(tables));
  writeFileAtomic(html, indexHtml(tables));
  return [md, html];
}

const seedCell = (t: ExperimentTables, r: ExperimentTables['rows'][number]) =>
  t.stored.spec.seeds.map((s) => (r.top1BySeed.has(s) ? f2(r.top1BySeed.get(s)!) : r.diverged.includes(s) ? 'div.' : '·')).join(' / ');

/** A markdown table; the first `textCols` columns are left-aligned, the last column too (notes). */
function mdTable(head: string[], rows: string[][], textCols: number, lastIsText = false): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const align = head.map((_, i) => (i < textCols || (lastIsText && i === head.length - 1) ? '---' : '---:'));
  return [`| ${head.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

const refNote = (c: ExperimentTables['comparisons'][number]) => (c.cmp.kind === 'control' ? ' (CE control)' : '');

export function summaryMarkdown(all: ExperimentTables[]): string {
  const out: string[] = ['# Experiment summary', '', `Statistics: ${STATISTICS_TEXT}`, ''];
  if (!all.length) out.push('No experiment has been run into this folder yet.');
  for (const t of all) {
    out.push(`## ${t.name}${t.stored.spec.description ? `: ${t.stored.spec.description}` : ''}`, '', settingText(t), '');
    out.push(
      mdTable(
        ['row', 'method', 'n', 'top-1 % (mean ± sd)', 'top-5 % (mean ± sd)', `top-1 % per seed (${t.stored.spec.seeds.join(' / ')})`, 'notes'],
        t.rows.map((r) => [`\`${r.row.key}\``, r.row.label, String(r.top1.n), meanSdText(r.top1), meanSdText(r.top5), seedCell(t, r), rowNotes(r)]),
        2,
        true,
      ),
      '',
    );
    if (t.comparisons.length) {
      out.push(
        `Paired differences (row − reference, same seed; points of accuracy):`,
        '',
        mdTable(
          ['row', 'reference', 'n', 'Δ top-1', '95% CI (top-1)', 'won / lost / tied', 'Δ top-5', '95% CI (top-5)'],
          t.comparisons.map((c) => [`\`${c.row.row.key}\``, `\`${c.ref.row.key}\`${refNote(c)}`, String(c.top1.n), signed(c.top1.mean), ciText(c.top1), wltText(c.top1), signed(c.top5.mean), ciText(c.top5)]),
          2,
        ),
        '',
      );
    }
  }
  return out.join('\n') + '\n';
}

function htmlTable(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= 2 ? ' class="num"' : ''}>${escapeXml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** The paper's Figure 4 for an axis of baseline epochs: top-1 against the baseline's epochs. */
function figure4(t: ExperimentTables): string {
  const axis = t.stored.spec.axis;
  if (axis?.field !== 'baselineEpochs') return '';
  const values = axis.values.map(Number);
  const baseRows = t.rows.filter((r) => r.row.baseline);
  const methodNames = [...new Set(t.rows.filter((r) => !r.row.baseline && r.row.axisValue !== null).map((r) => r.row.method))];
  const baseAt = (v: number) => baseRows.find((r) => r.row.axisValue === v);
  const series: CurveSeries[] = [
    { name: 'baseline itself', color: '#7f7f7f', points: values.map((v) => ({ x: v, y: baseAt(v)?.top1.mean ?? NaN, sd: baseAt(v)?.top1.sd ?? NaN })) },
    ...methodNames.map((m, i) => ({
      name: m,
      color: COLORS[i % COLORS.length],
      points: values.map((v) => {
        const r = t.rows.find((x) => x.row.method === m && x.row.axisValue === v);
        return { x: v, y: r?.top1.mean ?? NaN, sd: r?.top1.sd ?? NaN, note: `${m}: ${f2(r?.top1.mean ?? NaN)} ± ${f2(r?.top1.sd ?? NaN)}; baseline ${f2(baseAt(v)?.top1.mean ?? NaN)}` };
      }),
    })),
  ];
  const control = t.stored.spec.control ? t.rows.find((r) => r.row.method === t.stored.spec.control) : undefined;
  const levels: Level[] = control ? [{ name: `${control.row.key} (plain)`, color: '#000000', y: control.top1.mean, sd: control.top1.sd }] : [];
  const xTicks = values.map((v) => ({ x: v, label: `${v} (${f2(baseAt(v)?.top1.mean ?? NaN)}%)` }));
  return (
    `<h3>Top-1 against the baseline's training (the paper's Figure 4)</h3>` +
    curveChart(series, levels, { title: `${t.stored.spec.arch}: top-1 % (mean ± sd over seeds)`, xLabel: "baseline epochs (the baseline's own top-1 %)", yLabel: 'test top-1 %', xTicks }) +
    `<p class="note">Each point: mean over seeds, bar ± one sample standard deviation. The dashed line and band: the CE control (the same network trained with cross-entropy for the full schedule), mean ± sd.</p>`
  );
}

function section(t: ExperimentTables): string {
  const parts: string[] = [`<h2>${escapeXml(t.name)}${t.stored.spec.description ? `: ${escapeXml(t.stored.spec.description)}` : ''}</h2>`, `<p>${escapeXml(settingText(t))}</p>`];
  parts.push(
    htmlTable(
      ['row', 'method', 'n', 'top-1 % (mean ± sd)', 'top-5 % (mean ± sd)', `top-1 % per seed (${t.stored.spec.seeds.join(' / ')})`, 'notes'],
      t.rows.map((r) => [r.row.key, r.row.label, String(r.top1.n), meanSdText(r.top1), meanSdText(r.top5), seedCell(t, r), rowNotes(r)]),
    ),
  );
  parts.push(
    dotChart(
      t.rows.map((r) => ({ label: r.row.key, value: r.top1.mean, lo: r.top1.mean - r.top1.sd, hi: r.top1.mean + r.top1.sd, points: [...r.top1BySeed.values()] })),
      { title: 'test top-1 %: mean (filled) ± sd (bar), each seed (open)', xLabel: 'top-1 %' },
    ),
  );
  if (t.comparisons.length) {
    parts.push(
      `<h3>Paired differences (row − reference, same seed)</h3>`,
      htmlTable(
        ['row', 'reference', 'n', 'Δ top-1', '95% CI (top-1)', 'won / lost / tied', 'Δ top-5', '95% CI (top-5)'],
        t.comparisons.map((c) => [c.row.row.key, c.ref.row.key + refNote(c), String(c.top1.n), signed(c.top1.mean), ciText(c.top1), wltText(c.top1), signed(c.top5.mean), ciText(c.top5)]),
      ),
      dotChart(
        t.comparisons.map((c) => ({
          label: `${c.row.row.key} − ${c.ref.row.key}`,
          value: c.top1.mean,
          lo: c.top1.lo,
          hi: c.top1.hi,
          points: c.top1.seeds.map((s) => c.row.top1BySeed.get(s)! - c.ref.top1BySeed.get(s)!),
        })),
        { title: 'Δ top-1 (points): mean (filled), 95% CI (bar), each seed (open)', xLabel: 'difference in top-1 %', zero: true },
      ),
    );
  }
  parts.push(figure4(t));
  return `<section>${parts.join('\n')}</section>`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}section{margin-bottom:3em}
svg{display:block;margin:1em 0;font-size:12px}svg .title{font-weight:600;font-size:13px}svg .tick{fill:#555}svg .axis{fill:#333}
svg .grid{stroke:#e4e4e4}svg .zero{stroke:#000;stroke-dasharray:4 3}svg .bar{stroke:#1f77b4;stroke-width:2}
svg .mean{fill:#1f77b4}svg .seed{fill:none;stroke:#d62728;stroke-width:1.2}p.note,p.stats{color:#444;font-size:14px}`;

export function indexHtml(all: ExperimentTables[]): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>focusnet experiment</title><style>${CSS}</style></head>
<body><h1>focusnet experiment</h1>
<p class="stats"><b>Statistics.</b> ${escapeXml(STATISTICS_TEXT)}</p>
${all.length ? all.map(section).join('\n') : '<p>No experiment has been run into this folder yet.</p>'}
</body></html>
`;
}
