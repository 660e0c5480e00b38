// Charts drawn into RGBA canvases: line charts (training curves) and confusion-matrix
// heatmaps.

import { Canvas, RGB, BLACK, blues, diverging } from './canvas.js';
import { textWidth, GLYPH_H } from './font.js';

export interface Series {
  name: string;
  color: RGB;
  points: [number, number][];
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[0] > lo) ticks.unshift(Number((ticks[0] - step).toPrecision(12)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.01) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export function lineChart(series: Series[], o: LineChartOptions): Canvas {
  const W = o.width ?? 520;
  const H = o.height ?? 360;
  const cv = new Canvas(W, H);
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const left = 58;
  const right = 16;
  const top = 30;
  const bottom = 44 + 12 * Math.ceil(series.length / 2);
  const pw = W - left - right;
  const ph = H - top - bottom;
  cv.text((W - textWidth(o.title, 2)) / 2, 8, o.title, BLACK, 2);
  let xs = [0, 1];
  let ys = [0, 1];
  if (pts.length) {
    xs = niceTicks(Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0])), 6);
    ys = niceTicks(Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1])), 5);
  }
  if (xs.every((v) => Number.isInteger(v)) === false && pts.every((p) => Number.isInteger(p[0]))) {
    xs = xs.filter((v) => Number.isInteger(v));
  }
  const x0 = xs[0];
  const x1 = xs[xs.length - 1];
  const y0 = ys[0];
  const y1 = ys[ys.length - 1];
  const px = (x: number) => left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const py = (y: number) => top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const grid: RGB = [225, 225, 225];
  for (const t of ys) {
    cv.line(left, py(t), left + pw, py(t), grid);
    const s = fmt(t);
    cv.text(left - 6 - textWidth(s), py(t) - 3, s, BLACK);
  }
  for (const t of xs) {
    cv.line(px(t), top, px(t), top + ph, grid);
    const s = fmt(t);
    cv.text(px(t) - textWidth(s) / 2, top + ph + 6, s, BLACK);
  }
  cv.strokeRect(left, top, pw + 1, ph + 1, [120, 120, 120]);
  cv.text(left + (pw - textWidth(o.xLabel)) / 2, top + ph + 20, o.xLabel, BLACK);
  cv.textVertical(6, top + (ph + textWidth(o.yLabel)) / 2, o.yLabel, BLACK);
  for (const s of series) {
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    for (let i = 1; i < p.length; i++) {
      if (s.dashed) {
        const n = 8;
        for (let k = 0; k < n; k += 2) {
          const a = k / n;
          const b = (k + 1) / n;
          const ax = p[i - 1][0] + (p[i][0] - p[i - 1][0]) * a;
          const ay = p[i - 1][1] + (p[i][1] - p[i - 1][1]) * a;
          const bx = p[i - 1][0] + (p[i][0] - p[i - 1][0]) * b;
          const by = p[i - 1][1] + (p[i][1] - p[i - 1][1]) * b;
          cv.line(px(ax), py(ay), px(bx), py(by), s.color, 2);
        }
      } else cv.line(px(p[i - 1][0]), py(p[i - 1][1]), px(p[i][0]), py(p[i][1]), s.color, 2);
    }
    for (const [x, y] of p) cv.fillRect(px(x) - 2, py(y) - 2, 5, 5, s.color);
  }
  // legend, two entries per row
  series.forEach((s, i) => {
    const lx = left + (i % 2) * (pw / 2);
    const ly = top + ph + 34 + Math.floor(i / 2) * 12;
    cv.fillRect(lx, ly + 2, 14, 3, s.color);
    cv.text(lx + 18, ly, s.name, BLACK);
  });
  return cv;
}

export interface HeatmapOptions {
  title: string;
  classes: string[];
  /** 'count': row-normalized blues; 'diff': diverging around 0 */
  mode?: 'count' | 'diff';
}

/** A confusion matrix (rows: true class, columns: predicted) as a heatmap with counts. */
export function confusionHeatmap(m: number[][], o: HeatmapOptions): Canvas {
  const n = m.length;
  const cell = Math.max(6, Math.min(44, Math.floor(520 / Math.max(1, n))));
  const showCounts = cell >= 24;
  const showNames = cell >= 9;
  const names = o.classes.map((c) => (c.length > 12 ? c.slice(0, 11) + '.' : c));
  const nameW = showNames ? Math.max(...names.map((c) => textWidth(c)), 10) + 8 : 8;
  const left = nameW + 14;
  const top = 30 + nameW + 4;
  const W = left + n * cell + 16;
  const H = top + n * cell + 24;
  const cv = new Canvas(Math.max(W, textWidth(o.title, 2) + 20), H);
  cv.text(8, 8, o.title, BLACK, 2);
  const rowSum = m.map((r) => r.reduce((a, b) => a + b, 0));
  const maxAbs = Math.max(1, ...m.flatMap((r, i) => r.filter((_, j) => j !== i || o.mode !== 'diff').map(Math.abs)));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = m[i][j];
      const color = o.mode === 'diff' ? diverging(v / maxAbs) : blues(rowSum[i] ? v / rowSum[i] : 0);
      cv.fillRect(left + j * cell, top + i * cell, cell, cell, color);
      if (showCounts && v !== 0) {
        const s = String(v);
        const dark = o.mode === 'diff' ? Math.abs(v / maxAbs) > 0.6 : rowSum[i] > 0 && v / rowSum[i] > 0.5;
        const scale = cell >= 40 && s.length <= 3 ? 2 : 1;
        cv.text(left + j * cell + (cell - textWidth(s, scale)) / 2, top + i * cell + (cell - GLYPH_H * scale) / 2, s, dark ? [255, 255, 255] : BLACK, scale);
      }
    }
  }
  cv.strokeRect(left - 1, top - 1, n * cell + 2, n * cell + 2, [100, 100, 100]);
  if (showNames) {
    for (let i = 0; i < n; i++) {
      cv.text(left - 6 - textWidth(names[i]), top + i * cell + (cell - GLYPH_H) / 2, names[i], BLACK);
      cv.textVertical(left + j0(i, cell), top - 6, names[i], BLACK);
    }
  }
  cv.text(left, H - 14, 'columns: predicted, rows: true class', [90, 90, 90]);
  return cv;
}

function j0(j: number, cell: number): number {
  return j * cell + Math.floor((cell - GLYPH_H) / 2);
}
