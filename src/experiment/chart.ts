// Inline SVG charts for the experiment page (no scripts, no external resources):
//   dotChart    one line per item: a value with an error bar (mean ± sd, or a confidence
//               interval) and the individual seeds as small open circles, optional zero line;
//   curveChart  series of (x, mean ± sd) points joined by lines, with horizontal reference
//               levels (the plain baseline level of the paper's Figure 4).
import { niceTicks } from '../viz/charts.js';

export interface DotItem {
  label: string;
  value: number;
  lo: number;
  hi: number;
  points: number[];
}

export interface CurvePoint {
  x: number;
  y: number;
  sd: number;
  /** tooltip text */
  note?: string;
}

export interface CurveSeries {
  name: string;
  color: string;
  points: CurvePoint[];
}

export interface Level {
  name: string;
  color: string;
  y: number;
  sd: number;
}

export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n1 = (v: number) => (Math.round(v * 10) / 10).toString();

function range(values: number[], pad = 0.08): [number, number] {
  const fin = values.filter(Number.isFinite);
  if (!fin.length) return [0, 1];
  let lo = Math.min(...fin);
  let hi = Math.max(...fin);
  const d = hi - lo || Math.max(Math.abs(hi) * 0.01, 0.1);
  lo -= d * pad;
  hi += d * pad;
  return [lo, hi];
}

export function dotChart(items: DotItem[], o: { title: string; xLabel: string; zero?: boolean }): string {
  const labelW = Math.min(400, 16 + 7.4 * Math.max(8, ...items.map((i) => i.label.length)));
  const W = labelW + 520;
  const rowH = 26;
  const top = 34;
  const H = top + rowH * items.length + 44;
  const vals = items.flatMap((i) => [i.lo, i.hi, i.value, ...i.points]);
  if (o.zero) vals.push(0);
  const ticks = niceTicks(...range(vals), 6);
  const [x0, x1] = [ticks[0], ticks[ticks.length - 1]];
  const X = (v: number) => labelW + ((v - x0) / (x1 - x0 || 1)) * (W - labelW - 20);
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" class="title">${escapeXml(o.title)}</text>`);
  for (const t of ticks) {
    parts.push(`<line x1="${n1(X(t))}" y1="${top - 6}" x2="${n1(X(t))}" y2="${H - 38}" class="grid"/>`);
    parts.push(`<text x="${n1(X(t))}" y="${H - 24}" text-anchor="middle" class="tick">${t}</text>`);
  }
  if (o.zero) parts.push(`<line x1="${n1(X(0))}" y1="${top - 6}" x2="${n1(X(0))}" y2="${H - 38}" class="zero"/>`);
  parts.push(`<text x="${(labelW + W) / 2}" y="${H - 6}" text-anchor="middle" class="axis">${escapeXml(o.xLabel)}</text>`);
  items.forEach((it, i) => {
    const y = top + rowH * i + rowH / 2;
    parts.push(`<text x="${labelW - 8}" y="${y + 4}" text-anchor="end" class="label">${escapeXml(it.label)}</text>`);
    for (const p of it.points) parts.push(`<circle cx="${n1(X(p))}" cy="${y}" r="3" class="seed"><title>${p.toFixed(2)}</title></circle>`);
    if (Number.isFinite(it.lo) && Number.isFinite(it.hi)) {
      parts.push(`<line x1="${n1(X(it.lo))}" y1="${y}" x2="${n1(X(it.hi))}" y2="${y}" class="bar"/>`);
      for (const e of [it.lo, it.hi]) parts.push(`<line x1="${n1(X(e))}" y1="${y - 6}" x2="${n1(X(e))}" y2="${y + 6}" class="bar"/>`);
    }
    if (Number.isFinite(it.value)) parts.push(`<circle cx="${n1(X(it.value))}" cy="${y}" r="4.5" class="mean"><title>${it.value.toFixed(2)}</title></circle>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">${parts.join('')}</svg>`;
}

export function curveChart(series: CurveSeries[], levels: Level[], o: { title: string; xLabel: string; yLabel: string; xTicks: { x: number; label: string }[] }): string {
  const W = 640;
  const H = 380;
  const L = 64;
  const R = 180;
  const T = 34;
  const B = 56;
  const ys = [...series.flatMap((s) => s.points.flatMap((p) => [p.y - (p.sd || 0), p.y + (p.sd || 0)])), ...levels.flatMap((l) => [l.y - (l.sd || 0), l.y + (l.sd || 0)])];
  const yt = niceTicks(...range(ys), 6);
  const xs = o.xTicks.map((t) => t.x);
  const [xa, xb] = [Math.min(...xs), Math.max(...xs)];
  const X = (v: number) => L + (xb > xa ? ((v - xa) / (xb - xa)) * (W - L - R - 20) + 10 : (W - L - R) / 2);
  const Y = (v: number) => H - B - ((v - yt[0]) / (yt[yt.length - 1] - yt[0] || 1)) * (H - B - T);
  const parts: string[] = [`<text x="${(L + W - R) / 2}" y="18" text-anchor="middle" class="title">${escapeXml(o.title)}</text>`];
  for (const t of yt) {
    parts.push(`<line x1="${L}" y1="${n1(Y(t))}" x2="${W - R}" y2="${n1(Y(t))}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${n1(Y(t) + 4)}" text-anchor="end" class="tick">${t}</text>`);
  }
  for (const t of o.xTicks) parts.push(`<text x="${n1(X(t.x))}" y="${H - B + 16}" text-anchor="middle" class="tick">${escapeXml(t.label)}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 14}" text-anchor="middle" class="axis">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 16 ${(T + H - B) / 2})">${escapeXml(o.yLabel)}</text>`);
  let legendY = T + 6;
  const legend = (name: string, color: string, dashed: boolean) => {
    parts.push(`<line x1="${W - R + 12}" y1="${legendY}" x2="${W - R + 36}" y2="${legendY}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    parts.push(`<text x="${W - R + 42}" y="${legendY + 4}" class="label">${escapeXml(name)}</text>`);
    legendY += 20;
  };
  for (const l of levels) {
    if (!Number.isFinite(l.y)) continue;
    if (Number.isFinite(l.sd) && l.sd > 0) parts.push(`<rect x="${L}" y="${n1(Y(l.y + l.sd))}" width="${W - R - L}" height="${n1(Y(l.y - l.sd) - Y(l.y + l.sd))}" fill="${l.color}" opacity="0.12"/>`);
    parts.push(`<line x1="${L}" y1="${n1(Y(l.y))}" x2="${W - R}" y2="${n1(Y(l.y))}" stroke="${l.color}" stroke-width="2" stroke-dasharray="5 4"/>`);
    legend(l.name, l.color, true);
  }
  series.forEach((s, i) => {
    // series side by side at each x, so that their error bars do not hide each other
    const off = (i - (series.length - 1) / 2) * 5;
    const px = (p: CurvePoint) => n1(X(p.x) + off);
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${px(p)},${n1(Y(p.y))}`).join(' ')}"/>`);
    for (const p of pts) {
      if (Number.isFinite(p.sd) && p.sd > 0) parts.push(`<line x1="${px(p)}" y1="${n1(Y(p.y - p.sd))}" x2="${px(p)}" y2="${n1(Y(p.y + p.sd))}" stroke="${s.color}" stroke-width="1.5"/>`);
      parts.push(`<circle cx="${px(p)}" cy="${n1(Y(p.y))}" r="4" fill="${s.color}"><title>${escapeXml(p.note ?? `${p.y.toFixed(2)}`)}</title></circle>`);
    }
    legend(s.name, s.color, false);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">${parts.join('')}</svg>`;
}
