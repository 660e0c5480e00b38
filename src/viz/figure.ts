// The CAM figure: one row per class (the true class first, then the classes the
// baseline finds confusing), one column per network (baseline, FocusNet), each tile
// the image with the class's activation map blended over it, labelled with the class
// name and the network's probability for it.

import { Canvas, renderImage, BLACK, RGB } from './canvas.js';
import { textWidth, GLYPH_H } from './font.js';

export interface CamColumn {
  title: string;
  /** one map per row, at the display size (H·scale × W·scale) or the image size */
  maps: Float32Array[];
  probs: Float32Array;
}

export interface CamFigureInput {
  /** planes [C, H, W] in [0, 1] */
  image: Float32Array;
  channels: number;
  height: number;
  width: number;
  /** display scale (integer) */
  scale: number;
  classIds: number[];
  classNames: string[];
  label: number;
  heading: string;
  columns: CamColumn[];
}

/** Each map scaled to [0, 1] by its own maximum (ReLU'd maps are ≥ 0). */
export function normalizeMap(m: Float32Array): Float32Array {
  let mx = 0;
  for (const v of m) if (v > mx) mx = v;
  const out = new Float32Array(m.length);
  if (mx > 0) for (let i = 0; i < m.length; i++) out[i] = Math.max(0, m[i]) / mx;
  return out;
}

export function camFigure(f: CamFigureInput): Canvas {
  const tw = f.width * f.scale;
  const th = f.height * f.scale;
  const gap = 8;
  const rowLabelW = Math.max(...f.classIds.map((k) => textWidth(rowLabel(f, k))), textWidth('image')) + 12;
  const headH = 40;
  const cols = 1 + f.columns.length;
  const W = rowLabelW + cols * (tw + gap) + gap;
  const H = headH + f.classIds.length * (th + gap) + gap + 14;
  const cv = new Canvas(W, H);
  cv.text(gap, 6, f.heading, BLACK, textWidth(f.heading, 2) + 2 * gap <= W ? 2 : 1);
  const colX = (c: number) => rowLabelW + gap + c * (tw + gap);
  const titles = ['image', ...f.columns.map((c) => c.title)];
  titles.forEach((t, c) => cv.text(colX(c) + Math.max(0, (tw - textWidth(t)) / 2), headH - 14, t, BLACK));
  const plain = renderImage(f.image, f.channels, f.height, f.width, f.scale);
  const labelScale = tw >= 220 ? 2 : 1;
  f.classIds.forEach((k, r) => {
    const y = headH + r * (th + gap);
    const isTrue = k === f.label;
    cv.text(gap, y + th / 2 - GLYPH_H / 2, rowLabel(f, k), isTrue ? ([0, 110, 40] as RGB) : BLACK);
    cv.draw(plain, colX(0), y);
    f.columns.forEach((col, c) => {
      const tile = renderImage(f.image, f.channels, f.height, f.width, f.scale, normalizeMap(col.maps[r]), 0.6);
      const p = col.probs[k];
      tile.label(1, 1, `${short(f.classNames[k] ?? String(k), tw, labelScale)} ${p.toFixed(2)}`, [255, 255, 255], [0, 0, 0], labelScale, 0.6);
      cv.draw(tile, colX(c + 1), y);
      if (isTrue) cv.strokeRect(colX(c + 1) - 1, y - 1, tw + 2, th + 2, [0, 160, 60], 1);
    });
  });
  cv.text(gap, H - 12, 'maps scaled to their own maximum; label: class and probability', [100, 100, 100]);
  return cv;
}

function rowLabel(f: CamFigureInput, k: number): string {
  const n = f.classNames[k] ?? String(k);
  return k === f.label ? `${n} (true)` : n;
}

function short(name: string, tileW: number, scale: number): string {
  const maxChars = Math.max(3, Math.floor((tileW - 40 * scale) / (6 * scale)));
  return name.length > maxChars ? name.slice(0, maxChars - 1) + '.' : name;
}
