// Drawing for the demo page: test images and activation maps on <canvas> (the library's own
// viz.renderImage and jet colormap, as in `focusnet cam`'s figure), probability bars as lists,
// and line charts as SVG.
import { el } from './dom.mjs';

/** Draw an image (planes [C, H, W] in [0, 1]) at an integer `scale`, with an activation map blended over it when given. */
export function paint(fn, canvas, img, scale, map = null) {
  const cv = fn.viz.renderImage(img.planes, img.c, img.h, img.w, scale, map ? fn.viz.normalizeMap(map) : undefined, 0.6);
  canvas.width = cv.width;
  canvas.height = cv.height;
  canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(cv.data.buffer, cv.data.byteOffset, cv.data.length), cv.width, cv.height), 0, 0);
}

/**
 * A list of labelled bars: items [{ name, value (0..1), text, isTrue }], `kind` a CSS class
 * ('baseline', 'focusnet', 'warm'). Each row reads as "name: text" to a screen reader.
 */
export function bars(items, kind, label) {
  return el('ul', { class: `bars ${kind}`, 'aria-label': label }, ...items.map((it) => el('li', {},
    el('span', { class: `name${it.isTrue ? ' is-true' : ''}`, title: it.name, text: it.isTrue ? `${it.name} (true)` : it.name }),
    el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span', { style: `width: ${Math.max(0, Math.min(1, it.value)) * 100}%` })),
    el('span', { class: 'val', text: it.text }),
  )));
}

const NS = 'http://www.w3.org/2000/svg';
const svgEl = (tag, attrs = {}, text) => {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

/**
 * A line chart into `svg` (viewBox 480×240): `series` [{ kind: 'baseline'|'focusnet', line:
 * [[x, y]], dots: [[x, y]] }], x from 0 to `xMax`, y over `yRange` ([lo, hi]; from the data when
 * absent), axis titles `xTitle` / `yTitle`, `format(y)` for the y ticks.
 */
export function lineChart(fn, svg, { series, xMax, yRange, xTitle, yTitle, format = (v) => String(v), empty = 'nothing trained yet' }) {
  const W = 480;
  const H = 240;
  const m = { l: 46, r: 12, t: 10, b: 34 };
  svg.replaceChildren();
  const ys = series.flatMap((s) => [...s.line, ...(s.dots ?? [])].map((p) => p[1])).filter(Number.isFinite);
  if (!ys.length) {
    svg.append(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, empty));
    return;
  }
  let [lo, hi] = yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (!yRange) {
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 0.1;
    lo -= pad;
    hi += pad;
  }
  const yt = fn.viz.niceTicks(lo, hi, 5);
  lo = Math.min(lo, yt[0]);
  hi = Math.max(hi, yt[yt.length - 1]);
  const xm = Math.max(xMax, 1e-9);
  const X = (x) => m.l + (x / xm) * (W - m.l - m.r);
  const Y = (y) => H - m.b - ((y - lo) / (hi - lo || 1)) * (H - m.t - m.b);
  for (const v of yt) {
    svg.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: Y(v), y2: Y(v), class: 'grid' }));
    svg.append(svgEl('text', { x: m.l - 6, y: Y(v) + 4, 'text-anchor': 'end' }, format(v)));
  }
  const xt = fn.viz.niceTicks(0, xm, xm <= 2 ? 4 : Math.min(6, Math.ceil(xm))).filter((v) => v >= 0 && v <= xm + 1e-9);
  for (const v of xt) svg.append(svgEl('text', { x: X(v), y: H - m.b + 16, 'text-anchor': 'middle' }, String(v)));
  svg.append(svgEl('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }));
  svg.append(svgEl('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis' }));
  svg.append(svgEl('text', { x: (m.l + W - m.r) / 2, y: H - 4, 'text-anchor': 'middle' }, xTitle));
  svg.append(svgEl('text', { x: 12, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` }, yTitle));
  for (const s of series) {
    const pts = s.line.filter((p) => Number.isFinite(p[1]));
    if (pts.length > 1) svg.append(svgEl('polyline', { class: s.kind, points: pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ') }));
    else if (pts.length === 1) svg.append(svgEl('circle', { class: `dot ${s.kind}`, cx: X(pts[0][0]), cy: Y(pts[0][1]), r: 2.5 }));
    for (const p of s.dots ?? []) if (Number.isFinite(p[1])) svg.append(svgEl('circle', { class: `dot ${s.kind}`, cx: X(p[0]), cy: Y(p[1]), r: 4 }));
  }
}
