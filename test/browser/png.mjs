// Screenshot checks: decode a PNG (pngjs) and say whether anything was drawn on it.
//   pngStats(png) → { width, height, colours, background, foreground, fraction }
//   nonBlank(png) → true when enough pixels differ from the background colour
// The background is the most frequent colour; "foreground" counts the pixels of every other colour.
import { PNG } from 'pngjs';

/** Size, number of distinct RGBA colours, the most frequent colour and how many pixels are not it. */
export function pngStats(png) {
  const { width, height, data } = PNG.sync.read(Buffer.isBuffer(png) ? png : Buffer.from(png));
  const counts = new Map();
  const bytes = data.byteOffset % 4 ? Uint8Array.from(data) : data; // a Uint32 view needs alignment
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, width * height);
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  let bg = 0;
  let bgCount = -1;
  for (const [w, n] of counts) if (n > bgCount) { bg = w; bgCount = n; }
  const b = new Uint8Array(new Uint32Array([bg]).buffer);
  const foreground = width * height - bgCount;
  return { width, height, colours: counts.size, background: [...b], foreground, fraction: foreground / (width * height) };
}

/**
 * Whether the image shows something: at least `minColours` distinct colours and at least
 * `minFraction` of its pixels off the background colour (defaults: 3 colours, 0.5 %).
 */
export function nonBlank(png, { minColours = 3, minFraction = 0.005 } = {}) {
  const s = pngStats(png);
  return s.colours >= minColours && s.fraction >= minFraction;
}
