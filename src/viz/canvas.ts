// An RGBA pixel buffer with the few drawing primitives the figures need (filled
// rectangles, lines, bitmap text, scaled images, colormaps), and PNG encoding and
// decoding (src/data/png.ts: the same in Node and a page; files through the platform seam).

import { decodePng, encodePng } from '../data/png.js';
import { hostFiles } from '../platform/files.js';
import { glyphRows, GLYPH_W, GLYPH_H, textWidth } from './font.js';

export type RGB = [number, number, number];
export type RGBA = [number, number, number, number];

export const WHITE: RGB = [255, 255, 255];
export const BLACK: RGB = [0, 0, 0];

export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number, background: RGB | RGBA = WHITE) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new Error(`canvas: size must be positive integers, got ${width}×${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  /** Set one pixel; `alpha` in [0, 1] blends over what is there. */
  set(x: number, y: number, c: RGB | RGBA, alpha = 1): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    const d = this.data;
    if (alpha >= 1) {
      d[o] = c[0];
      d[o + 1] = c[1];
      d[o + 2] = c[2];
      d[o + 3] = c.length === 4 ? c[3] : 255;
    } else if (alpha > 0) {
      d[o] = Math.round(d[o] * (1 - alpha) + c[0] * alpha);
      d[o + 1] = Math.round(d[o + 1] * (1 - alpha) + c[1] * alpha);
      d[o + 2] = Math.round(d[o + 2] * (1 - alpha) + c[2] * alpha);
      d[o + 3] = 255;
    }
  }

  get(x: number, y: number): RGBA {
    const o = (y * this.width + x) * 4;
    return [this.data[o], this.data[o + 1], this.data[o + 2], this.data[o + 3]];
  }

  fillRect(x: number, y: number, w: number, h: number, c: RGB | RGBA, alpha = 1): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let j = y0; j < y1; j++) for (let i = x0; i < x1; i++) this.set(i, j, c, alpha);
  }

  strokeRect(x: number, y: number, w: number, h: number, c: RGB, width = 1): void {
    this.fillRect(x, y, w, width, c);
    this.fillRect(x, y + h - width, w, width, c);
    this.fillRect(x, y, width, h, c);
    this.fillRect(x + w - width, y, width, h, c);
  }

  /** A line of the given width (square pen), DDA stepping. */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, width = 1): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const r = (width - 1) / 2;
    for (let s = 0; s <= n; s++) {
      const x = x0 + ((x1 - x0) * s) / n;
      const y = y0 + ((y1 - y0) * s) / n;
      if (width <= 1) this.set(x, y, c);
      else this.fillRect(x - r, y - r, width, width, c);
    }
  }

  /** Bitmap text with its top-left corner at (x, y); returns the width drawn. */
  text(x: number, y: number, s: string, c: RGB, scale = 1): number {
    const x0 = Math.round(x);
    const advance = (GLYPH_W + 1) * scale;
    this.drawGlyphs(s, c, scale, (k, r, col) => [x0 + k * advance + col * scale, y + r * scale]);
    return textWidth(s, scale);
  }

  /**
   * A scale×scale square at place(k, r, col) for each set pixel (row r, column col) of the
   * k-th glyph of s: the one glyph walk behind horizontal and vertical text.
   */
  private drawGlyphs(s: string, c: RGB, scale: number, place: (k: number, r: number, col: number) => [number, number]): void {
    let k = 0;
    for (const ch of s) {
      const rows = glyphRows(ch);
      for (let r = 0; r < GLYPH_H; r++) {
        for (let col = 0; col < GLYPH_W; col++) {
          if (!(rows[r] & (0x10 >> col))) continue;
          const [px, py] = place(k, r, col);
          this.fillRect(px, py, scale, scale, c);
        }
      }
      k++;
    }
  }

  /** Text on a filled box (readable over images). */
  label(x: number, y: number, s: string, fg: RGB, bg: RGB, scale = 1, alpha = 0.75): void {
    const w = textWidth(s, scale);
    this.fillRect(x, y, w + 2 * scale + 2, GLYPH_H * scale + 2 * scale, bg, alpha);
    this.text(x + scale + 1, y + scale, s, fg, scale);
  }

  /** Text rotated 90° counter-clockwise (reads bottom to top), its glyph tops at column x. */
  textVertical(x: number, y: number, s: string, c: RGB, scale = 1): void {
    const y0 = Math.round(y);
    const advance = (GLYPH_W + 1) * scale;
    this.drawGlyphs(s, c, scale, (k, r, col) => [x + r * scale, y0 - k * advance - col * scale]);
  }

  /** Paste another canvas at (x, y). */
  draw(src: Canvas, x: number, y: number): void {
    for (let j = 0; j < src.height; j++) {
      for (let i = 0; i < src.width; i++) {
        const o = (j * src.width + i) * 4;
        this.set(x + i, y + j, [src.data[o], src.data[o + 1], src.data[o + 2], src.data[o + 3]]);
      }
    }
  }

  /** The canvas as PNG bytes (in a page: a Blob URL for an <img>, or a download). */
  toPng(): Uint8Array {
    return encodePng(this.width, this.height, this.data);
  }

  writePng(path: string): void {
    hostFiles('viz.Canvas.writePng').write(path, this.toPng());
  }

  static fromPng(bytes: Uint8Array): Canvas {
    const png = decodePng(bytes);
    const c = new Canvas(png.width, png.height);
    c.data.set(png.data);
    return c;
  }

  static readPng(path: string): Canvas {
    return Canvas.fromPng(hostFiles('viz.Canvas.readPng').readBytes(path));
  }
}

/** The 'jet'-like colormap used for activation maps: t in [0, 1] → blue … red. */
export function jet(t: number): RGB {
  const v = Math.min(1, Math.max(0, t));
  const f = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [f(1.5 - Math.abs(4 * v - 3)), f(1.5 - Math.abs(4 * v - 2)), f(1.5 - Math.abs(4 * v - 1))];
}

/** Sequential white → dark blue colormap for confusion matrices: t in [0, 1]. */
export function blues(t: number): RGB {
  const v = Math.min(1, Math.max(0, t));
  const a: RGB = [247, 251, 255];
  const b: RGB = [8, 48, 107];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * v)) as RGB;
}

/** Diverging blue (−1) → white (0) → red (+1). */
export function diverging(t: number): RGB {
  const v = Math.min(1, Math.max(-1, t));
  if (v >= 0) return [255, Math.round(255 * (1 - v * 0.8)), Math.round(255 * (1 - v * 0.8))];
  return [Math.round(255 * (1 + v * 0.8)), Math.round(255 * (1 + v * 0.8)), 255];
}

/**
 * A grey or RGB image given as planes [C, H, W] of floats in [0, 1], scaled by an
 * integer factor (nearest neighbour), optionally with an activation map [H·W] (values
 * in [0, 1]) blended over it through the jet colormap.
 */
export function renderImage(planes: Float32Array, C: number, H: number, W: number, scale: number, overlay?: Float32Array, alpha = 0.5): Canvas {
  const cv = new Canvas(W * scale, H * scale);
  const fine = overlay !== undefined && overlay.length === H * W * scale * scale && scale > 1;
  for (let y = 0; y < H * scale; y++) {
    for (let x = 0; x < W * scale; x++) {
      const sy = Math.floor(y / scale);
      const sx = Math.floor(x / scale);
      const at = (c: number) => Math.round(255 * Math.min(1, Math.max(0, planes[c * H * W + sy * W + sx])));
      let px: RGB = C >= 3 ? [at(0), at(1), at(2)] : [at(0), at(0), at(0)];
      if (overlay) {
        // weak activations let the image show through: the colour's weight grows with the value
        const v = fine ? overlay[y * W * scale + x] : overlay[sy * W + sx];
        const m = jet(v);
        const a = alpha * (0.35 + 0.65 * Math.min(1, Math.max(0, v)));
        px = [0, 1, 2].map((i) => Math.round(px[i] * (1 - a) + m[i] * a)) as RGB;
      }
      cv.set(x, y, px);
    }
  }
  return cv;
}
