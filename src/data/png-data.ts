// A guard in front of pngjs: a PNG must hold the image data its IHDR declares.
// pngjs's synchronous reader, given less compressed data than the IHDR implies, can
// return or trip over bytes of uninitialised memory (the same damaged file loads with
// garbage pixels on one run and fails on the next). So the IDAT chunks are inflated
// here first (fflate, into a buffer of exactly the declared size) and a short or
// undecodable stream is a DataError naming the file. Platform-free (see core.ts).
import { unzlibSync } from 'fflate';
import { DataError } from './errors.js';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
// Adam7 passes: x start, y start, x step, y step
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Bytes of filtered image data (a filter byte per row) that a PNG's IHDR implies. */
export function pngDataSize(width: number, height: number, bitDepth: number, colorType: number, interlace: number): number {
  const bits = (CHANNELS[colorType] ?? 0) * bitDepth;
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bits) / 8)) : 0);
  if (!interlace) return rows(width, height);
  let n = 0;
  for (const [xs, ys, dx, dy] of ADAM7) n += rows(Math.ceil((width - xs) / dx), Math.ceil((height - ys) / dy));
  return n;
}

/** Check that a PNG (signature and IHDR already read) holds its declared image data. */
export function checkPngData(bytes: Uint8Array, file: string): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  const [bitDepth, colorType, , , interlace] = bytes.subarray(24, 29);
  if (!(colorType in CHANNELS) || ![1, 2, 4, 8, 16].includes(bitDepth)) throw new DataError(file, `corrupt or truncated image (PNG header: bit depth ${bitDepth}, colour type ${colorType})`);
  const idat: Uint8Array[] = [];
  let total = 0;
  let at = 8;
  for (;;) {
    if (at + 12 > bytes.length) throw new DataError(file, `corrupt or truncated image (the PNG ends inside the chunk at byte ${at}, before IEND)`);
    const len = dv.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (at + 12 + len > bytes.length) {
      const name = /^[A-Za-z]{4}$/.test(type) ? `'${type}'` : `of type 0x${[...bytes.subarray(at + 4, at + 8)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
      throw new DataError(file, `corrupt or truncated image (PNG chunk ${name} at byte ${at} declares ${len} bytes, the file ends first)`);
    }
    if (type === 'IDAT') {
      idat.push(bytes.subarray(at + 8, at + 8 + len));
      total += len;
    }
    if (type === 'IEND') break;
    at += 12 + len;
  }
  const expected = pngDataSize(width, height, bitDepth, colorType, interlace);
  const z = new Uint8Array(total);
  let k = 0;
  for (const c of idat) {
    z.set(c, k);
    k += c.length;
  }
  let got: number;
  try {
    got = unzlibSync(z, { out: new Uint8Array(expected) }).length;
  } catch (e) {
    throw new DataError(file, `corrupt or truncated image (PNG image data: ${(e as Error).message})`);
  }
  if (got < expected) throw new DataError(file, `corrupt or truncated image (PNG image data inflate to ${got} bytes, the ${width}×${height} IHDR declares ${expected})`);
}
