// The PNG codec (src/data/png.ts, fast-png in Node and a page) against pngjs, which the library
// used before: every colour type and bit depth, palettes with and without alpha, interlacing,
// odd sizes and random pixels decode to the same 8-bit RGBA; what the library encodes, pngjs
// reads back exactly; a damaged file is a DataError naming it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PNG } from 'pngjs';
import { encode } from 'fast-png';
import lib from './helpers/lib.mjs';
import { rng } from './helpers/ref.mjs';
import { crc32 } from './helpers/datasets.mjs';

const { data, viz } = lib;

/** pngjs's reading (8-bit RGBA, its conversions) of PNG bytes. */
const pngjs = (bytes) => {
  const p = PNG.sync.read(Buffer.from(bytes));
  return { width: p.width, height: p.height, data: new Uint8Array(p.data) };
};

function sameAsPngjs(bytes, what) {
  const ours = data.decodePng(new Uint8Array(bytes));
  const ref = pngjs(bytes);
  assert.is(ours.width, ref.width, `${what}: width`);
  assert.is(ours.height, ref.height, `${what}: height`);
  assert.is(ours.data.length, ref.width * ref.height * 4, `${what}: RGBA bytes`);
  for (let i = 0; i < ours.data.length; i++) {
    if (ours.data[i] !== ref.data[i]) assert.unreachable(`${what}: byte ${i} (pixel ${i >> 2}, channel ${i & 3}) is ${ours.data[i]}, pngjs gives ${ref.data[i]}`);
  }
  return ours;
}

/** Random samples of `bits` bits: every value of the range occurs (0 and the maximum included). */
function samples(n, bits, seed) {
  const r = rng(seed);
  const max = 2 ** bits - 1;
  const Arr = bits === 16 ? Uint16Array : Uint8Array;
  const a = Arr.from({ length: n }, () => Math.floor(r.next() * (max + 1)));
  a[0] = 0;
  a[1] = max;
  return a;
}

/** Pack one-sample-per-byte rows into rows of `bits`-bit samples (what fast-png's encoder takes). */
function pack(s, width, height, bits) {
  if (bits >= 8) return s;
  const rowBytes = Math.ceil((width * bits) / 8);
  const out = new Uint8Array(rowBytes * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const bit = x * bits;
    out[y * rowBytes + (bit >> 3)] |= s[y * width + x] << (8 - bits - (bit & 7));
  }
  return out;
}

test('grey, grey + alpha, RGB and RGBA at 8 and 16 bits, odd sizes: as pngjs reads them', () => {
  const [w, h] = [13, 7];
  for (const [colorType, channels] of [[0, 1], [4, 2], [2, 3], [6, 4]]) {
    for (const bitDepth of [8, 16]) {
      const what = `colour type ${colorType}, ${bitDepth} bits`;
      const s = samples(w * h * channels, bitDepth, colorType * 31 + bitDepth);
      const bytes = encode({ width: w, height: h, data: s, depth: bitDepth, channels });
      const ours = sameAsPngjs(bytes, what);
      if (bitDepth === 16) assert.ok(ours.data.some((v) => v > 0 && v < 255), `${what}: intermediate values survive the conversion`);
    }
  }
});

test('grey at 1, 2 and 4 bits and palettes (with and without tRNS alpha) at 1 to 8 bits: as pngjs reads them', () => {
  const [w, h] = [11, 5];
  for (const bits of [1, 2, 4]) {
    const bytes = encode({ width: w, height: h, data: pack(samples(w * h, bits, bits), w, h, bits), depth: bits, channels: 1 });
    sameAsPngjs(bytes, `grey ${bits} bits`);
  }
  const r = rng(5);
  for (const bits of [1, 2, 4, 8]) {
    for (const alpha of [false, true]) {
      const colours = 2 ** bits;
      const palette = Array.from({ length: colours }, () => [0, 0, 0, ...(alpha ? [0] : [])].map(() => Math.floor(r.next() * 256)));
      const idx = Uint8Array.from({ length: w * h }, (_, i) => (i * 7 + 3) % colours);
      const bytes = encode({ width: w, height: h, data: pack(idx, w, h, bits), depth: bits, channels: 1, palette });
      const ours = sameAsPngjs(bytes, `palette of ${colours}${alpha ? ' RGBA' : ' RGB'} colours, ${bits} bits`);
      if (alpha) assert.ok(ours.data.some((v, i) => i % 4 === 3 && v < 255), 'palette alpha is used');
    }
  }
});

test('interlaced (Adam7) images at 8 and 16 bits: as pngjs reads them; interlaced sub-byte samples are refused, not misread', () => {
  for (const [w, h] of [[9, 10], [1, 1], [17, 3]]) {
    for (const depth of [8, 16]) {
      const bytes = encode({ width: w, height: h, data: samples(w * h * 3, depth, w + h + depth), depth, channels: 3 }, { interlace: 'Adam7' });
      assert.is(bytes[28], 1, 'the file is interlaced');
      sameAsPngjs(bytes, `interlaced ${w}×${h} RGB ${depth} bits`);
    }
  }
  const sub = encode({ width: 8, height: 8, data: pack(samples(64, 2, 9), 8, 8, 2), depth: 2, channels: 1 }, { interlace: 'Adam7' });
  assert.throws(() => data.decodePng(sub), /interlaced PNGs with 2-bit samples are not supported/);
});

test('what the library encodes (Canvas.toPng), pngjs reads back exactly, and so does Canvas.fromPng', () => {
  const cv = new viz.Canvas(23, 9, [10, 20, 30, 255]);
  cv.fillRect(3, 2, 7, 5, [200, 100, 50]);
  cv.line(0, 8, 22, 0, [0, 255, 128], 2);
  cv.set(1, 1, [9, 8, 7, 100]);
  const bytes = cv.toPng();
  assert.instance(bytes, Uint8Array);
  const ref = pngjs(bytes);
  assert.equal([ref.width, ref.height], [23, 9]);
  assert.equal([...ref.data], [...cv.data], 'pngjs reads the same RGBA');
  assert.equal([...viz.Canvas.fromPng(bytes).data], [...cv.data], 'Canvas.fromPng reads it back');
  // and a pngjs-written file reads into the same canvas
  const p = new PNG({ width: 23, height: 9 });
  p.data.set(cv.data);
  assert.equal([...viz.Canvas.fromPng(new Uint8Array(PNG.sync.write(p))).data], [...cv.data]);
});

test('a damaged PNG (bad CRC, cut short, bad palette index) is a DataError naming the file', () => {
  const good = encode({ width: 6, height: 4, data: samples(72, 8, 3), depth: 8, channels: 3 });
  const badCrc = new Uint8Array(good);
  badCrc[29] ^= 0xff; // the IHDR chunk's CRC
  assert.throws(() => data.decodeImageBytes(badCrc, 'crc.png'), (e) => e instanceof data.DataError && /crc\.png: corrupt or truncated image/.test(e.message));
  assert.throws(() => data.decodeImageBytes(good.subarray(0, good.length - 20), 'cut.png'), (e) => e instanceof data.DataError && /cut\.png: corrupt or truncated image/.test(e.message));
  // a 2-colour palette whose pixels point at colour 3
  const pal = encode({ width: 4, height: 1, data: Uint8Array.of(0, 1, 3, 1), depth: 8, channels: 1, palette: [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]] });
  const shortPal = rewritePalette(pal, [[1, 2, 3], [4, 5, 6]]);
  assert.throws(() => data.decodeImageBytes(shortPal, 'pal.png'), (e) => e instanceof data.DataError && /pal\.png: corrupt or truncated image \(palette index 3 is beyond the 2 colours/.test(e.message));
});

/** The PNG with its PLTE chunk replaced by `colours` (CRC recomputed). */
function rewritePalette(png, colours) {
  const dv = new DataView(png.buffer, png.byteOffset);
  for (let at = 8; at < png.length;) {
    const len = dv.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'PLTE') {
      const chunk = new Uint8Array(12 + 3 * colours.length);
      const cdv = new DataView(chunk.buffer);
      cdv.setUint32(0, 3 * colours.length);
      chunk.set([0x50, 0x4c, 0x54, 0x45], 4);
      chunk.set(colours.flat(), 8);
      cdv.setUint32(8 + 3 * colours.length, crc32(chunk.subarray(4, 8 + 3 * colours.length)));
      return Uint8Array.from([...png.subarray(0, at), ...chunk, ...png.subarray(at + 12 + len)]);
    }
    at += 12 + len;
  }
  throw new Error('no PLTE chunk');
}

test.run();
