// Gzip decompression for data files, the same code in Node and in a page: fflate's
// synchronous streaming inflater (pure JavaScript). Every member of a multi-member file
// is checked against its trailer (CRC-32 and length), as zlib does, so damaged data
// is a DataError naming the file rather than wrong pixels. The output is bounded
// (`maxBytes`): input goes in 256 KiB at a time, so a decompression bomb stops at the
// limit instead of filling memory. Platform-free (see core.ts).
import { Gunzip } from 'fflate';
import { DataError, formatBytes } from './errors.js';

/** Largest output gunzip() produces by default: the longest Uint8Array Node 20 allows, less one. */
export const MAX_GUNZIP_BYTES = 2 ** 32 - 1;

const CHUNK = 256 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

let crcTables: Int32Array | null = null;

/** The eight 256-entry tables of slicing-by-8 CRC-32 (table 0 is the classic bytewise one). */
function tables(): Int32Array {
  if (crcTables) return crcTables;
  const t = new Int32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) for (let k = 1; k < 8; k++) t[k * 256 + i] = (t[(k - 1) * 256 + i] >>> 8) ^ t[t[(k - 1) * 256 + i] & 255];
  return (crcTables = t);
}

/** CRC-32 (IEEE, as in gzip trailers) of bytes; eight bytes a step (about 1 GB/s). */
export function crc32(bytes: Uint8Array): number {
  const t = tables();
  const b = bytes;
  let c = -1;
  let i = 0;
  for (const n8 = b.length - (b.length & 7); i < n8; i += 8) {
    const lo = c ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24));
    c = t[1792 + (lo & 255)] ^ t[1536 + ((lo >>> 8) & 255)] ^ t[1280 + ((lo >>> 16) & 255)] ^ t[1024 + (lo >>> 24)] ^ t[768 + b[i + 4]] ^ t[512 + b[i + 5]] ^ t[256 + b[i + 6]] ^ t[b[i + 7]];
  }
  for (; i < b.length; i++) c = t[(c ^ b[i]) & 255] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Decompress a whole gzip file (one or more members); any damage is a DataError naming `file`. */
export function gunzip(bytes: Uint8Array, file: string, maxBytes = MAX_GUNZIP_BYTES): Uint8Array {
  const bad = (why: string) => new DataError(file, `corrupt or truncated gzip data (${why})`);
  const chunks: Uint8Array[] = [];
  let outLen = 0;
  // members: where each starts in the input, and in the output
  const members = [{ inStart: 0, outStart: 0 }];
  const g = new Gunzip((chunk) => {
    outLen += chunk.length;
    if (outLen > maxBytes) throw new DataError(file, `gzip data decompresses to more than ${formatBytes(maxBytes)}, the limit for one file`);
    chunks.push(chunk);
  });
  g.onmember = (offset: number) => members.push({ inStart: offset, outStart: outLen });
  try {
    for (let at = 0; at < bytes.length; at += CHUNK) {
      const end = Math.min(bytes.length, at + CHUNK);
      g.push(bytes.subarray(at, end), end === bytes.length);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw bad((e as Error).message);
  }
  const out = new Uint8Array(outLen);
  let k = 0;
  for (const c of chunks) {
    out.set(c, k);
    k += c.length;
  }
  for (let m = 0; m < members.length; m++) {
    const { inStart, outStart } = members[m];
    const inEnd = m + 1 < members.length ? members[m + 1].inStart : bytes.length;
    const outEnd = m + 1 < members.length ? members[m + 1].outStart : outLen;
    if (inEnd - inStart < 18) throw bad(`member ${m + 1} is ${inEnd - inStart} bytes, shorter than a gzip header and trailer`);
    const t = inEnd - 8;
    const crc = (bytes[t] | (bytes[t + 1] << 8) | (bytes[t + 2] << 16) | (bytes[t + 3] << 24)) >>> 0;
    const size = (bytes[t + 4] | (bytes[t + 5] << 8) | (bytes[t + 6] << 16) | (bytes[t + 7] << 24)) >>> 0;
    const part = out.subarray(outStart, outEnd);
    if (size !== part.length % 2 ** 32) throw bad(`member ${m + 1}: the trailer says ${size} bytes, the data inflate to ${part.length}`);
    if (crc32(part) !== crc) throw bad(`member ${m + 1}: CRC-32 mismatch`);
  }
  return out;
}

/** The bytes of a file, gunzipped when they start with the gzip magic. */
export function maybeGunzip(bytes: Uint8Array, file: string, maxBytes = MAX_GUNZIP_BYTES): Uint8Array {
  return isGzip(bytes) ? gunzip(bytes, file, maxBytes) : bytes;
}
