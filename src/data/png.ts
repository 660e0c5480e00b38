// PNG decoding and encoding in plain JavaScript (npm fast-png, over fflate), one codec for Node
// and a page (pngjs needs Node's zlib and streams). decodePng gives 8-bit RGBA whatever the file
// holds (grey, grey + alpha, RGB, RGBA, palette; 1 to 16 bits per sample; interlaced at 8 and 16
// bits), converted as pngjs converts, so images read the same as before: a d-bit sample v becomes
// floor(v·255/(2^d − 1) + 0.5), grey is copied to R, G and B, a tRNS colour becomes (0, 0, 0, 0),
// a palette entry takes its tRNS alpha (255 without). Platform-free (see core.ts).
import { decode, encode } from 'fast-png';

export interface Rgba {
  width: number;
  height: number;
  /** width·height·4 bytes, row-major RGBA */
  data: Uint8Array;
}

/** The samples of decoded rows (packed when under 8 bits) as one value each, row-major. */
function unpack(data: Uint8Array | Uint16Array, width: number, height: number, perPixel: number, depth: number): Uint8Array | Uint16Array {
  if (depth >= 8) return data;
  const perRow = width * perPixel;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < perRow; i++) {
      const bit = i * depth;
      out[y * perRow + i] = (data[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Decode a PNG's bytes to 8-bit RGBA; throws (a plain Error) on a damaged or unsupported file. */
export function decodePng(bytes: Uint8Array): Rgba {
  // (IHDR: bit depth at byte 24, interlace method at 28) fast-png 8 lays out the Adam7 passes of
  // sub-byte samples as whole bytes: refuse such a file rather than misread it
  if (bytes.length > 28 && bytes[28] === 1 && bytes[24] < 8) throw new Error(`interlaced PNGs with ${bytes[24]}-bit samples are not supported (save the image without interlacing)`);
  const png = decode(bytes, { checkCrc: true });
  const { width, height, depth, channels } = png;
  const n = width * height;
  const out = new Uint8Array(n * 4);
  const s = unpack(png.data as Uint8Array | Uint16Array, width, height, channels, depth);
  if (s.length < n * channels) throw new Error(`the image data hold ${s.length} samples, ${width}×${height}×${channels} are declared`);
  if (png.palette) {
    const pal = png.palette;
    for (let i = 0; i < n; i++) {
      const c = pal[s[i]];
      if (!c) throw new Error(`palette index ${s[i]} is beyond the ${pal.length} colours of the palette`);
      out[4 * i] = c[0];
      out[4 * i + 1] = c[1];
      out[4 * i + 2] = c[2];
      out[4 * i + 3] = c.length > 3 ? c[3] : 255;
    }
    return { width, height, data: out };
  }
  const max = 2 ** depth - 1;
  const scale = (v: number) => (depth === 8 ? v : Math.floor((v * 255) / max + 0.5));
  const grey = channels <= 2;
  const hasAlpha = channels === 2 || channels === 4;
  const trns = png.transparency;
  for (let i = 0; i < n; i++) {
    const p = i * channels;
    if (trns && (grey ? s[p] === trns[0] : s[p] === trns[0] && s[p + 1] === trns[1] && s[p + 2] === trns[2])) continue; // (0, 0, 0, 0)
    const r = scale(s[p]);
    out[4 * i] = r;
    out[4 * i + 1] = grey ? r : scale(s[p + 1]);
    out[4 * i + 2] = grey ? r : scale(s[p + 2]);
    out[4 * i + 3] = hasAlpha ? scale(s[p + channels - 1]) : 255;
  }
  return { width, height, data: out };
}

/** Encode 8-bit RGBA pixels (width·height·4 bytes) as a PNG. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  return encode({ width, height, data: rgba, depth: 8, channels: 4 });
}
