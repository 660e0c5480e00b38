// Resizing and centre cropping of decoded RGB images to the square the models take.
// Platform-free (see core.ts); decoding is in decode.ts.

export interface Rgb {
  width: number;
  height: number;
  /** width×height×3, interleaved RGB */
  data: Uint8Array;
}

/**
 * Resize so the shorter side is `size` (area averaging when shrinking, bilinear
 * when enlarging), then crop the central size×size square. Writes channel-planar
 * (C×size×size) uint8 into dst at offset.
 */
export function resizeCenterCrop(img: Rgb, size: number, dst: Uint8Array, offset: number): void {
  const { width: W, height: H, data } = img;
  const scale = size / Math.min(W, H); // output pixels per input pixel
  const outW = Math.max(size, Math.round(W * scale));
  const outH = Math.max(size, Math.round(H * scale));
  const x0 = Math.floor((outW - size) / 2);
  const y0 = Math.floor((outH - size) / 2);
  const sx = W / outW;
  const sy = H / outH;
  for (let oy = 0; oy < size; oy++) {
    const ry = (oy + y0) * sy; // source span [ry, ry + sy)
    for (let ox = 0; ox < size; ox++) {
      const rx = (ox + x0) * sx;
      for (let ch = 0; ch < 3; ch++) {
        let v: number;
        if (sx > 1 || sy > 1) v = areaSample(data, W, H, ch, rx, ry, Math.max(sx, 1), Math.max(sy, 1));
        else v = bilinear(data, W, H, ch, rx + sx / 2 - 0.5, ry + sy / 2 - 0.5);
        dst[offset + ch * size * size + oy * size + ox] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
}
function bilinear(d: Uint8Array, W: number, H: number, ch: number, x: number, y: number): number {
  const xc = Math.max(0, Math.min(W - 1, x));
  const yc = Math.max(0, Math.min(H - 1, y));
  const xi = Math.floor(xc);
  const yi = Math.floor(yc);
  const x1 = Math.min(W - 1, xi + 1);
  const y1 = Math.min(H - 1, yi + 1);
  const fx = xc - xi;
  const fy = yc - yi;
  const p = (xx: number, yy: number) => d[(yy * W + xx) * 3 + ch];
  return (p(xi, yi) * (1 - fx) + p(x1, yi) * fx) * (1 - fy) + (p(xi, y1) * (1 - fx) + p(x1, y1) * fx) * fy;
}

function areaSample(d: Uint8Array, W: number, H: number, ch: number, x: number, y: number, w: number, h: number): number {
  let sum = 0;
  let area = 0;
  const xe = Math.min(W, x + w);
  const ye = Math.min(H, y + h);
  for (let yy = Math.floor(y); yy < ye; yy++) {
    const wy = Math.min(yy + 1, ye) - Math.max(yy, y);
    if (wy <= 0) continue;
    for (let xx = Math.floor(x); xx < xe; xx++) {
      const wx = Math.min(xx + 1, xe) - Math.max(xx, x);
      if (wx <= 0) continue;
      sum += d[(yy * W + xx) * 3 + ch] * wx * wy;
      area += wx * wy;
    }
  }
  return area > 0 ? sum / area : 0;
}
