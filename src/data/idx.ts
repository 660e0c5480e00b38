// IDX files (MNIST, Fashion-MNIST): raw or gzip-compressed.
// Layout: two zero bytes, a type byte (0x08 = unsigned byte), the number of
// dimensions, then each dimension as a big-endian u32, then the data.
import { gunzipSync } from 'node:zlib';
import { DataError, readDataFile } from './errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Read a whole file, transparently gunzipping it when it starts with the gzip magic. */
export function readMaybeGzip(path: string): Uint8Array {
  let buf = readDataFile(path);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new DataError(path, `corrupt or truncated gzip data (${(e as Error).message})`);
    }
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
  if (bytes.length < 4) throw new DataError(path, `truncated IDX file: ${bytes.length} bytes, the header alone needs 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DataError(path, `not an IDX file (magic bytes ${bytes[0]}, ${bytes[1]}; expected 0, 0)`);
  if (bytes[2] !== 0x08) throw new DataError(path, `IDX element type 0x${bytes[2].toString(16)} is not supported (only 0x08, unsigned byte)`);
  const nd = bytes[3];
  if (nd < 1 || nd > 4) throw new DataError(path, `IDX file with ${nd} dimensions is not supported`);
  const head = 4 + 4 * nd;
  if (bytes.length < head) throw new DataError(path, `truncated IDX header: ${bytes.length} bytes, expected at least ${head}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(dv.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < head + count) {
    throw new DataError(path, `truncated IDX file: dimensions [${dims.join(', ')}] need ${head + count} bytes, found ${bytes.length}`);
  }
  if (bytes.length > head + count) {
    throw new DataError(path, `corrupt IDX file: ${bytes.length - head - count} bytes after the data that dimensions [${dims.join(', ')}] describe`);
  }
  return { dims, data: bytes.subarray(head, head + count) };
}

export function readIdx(path: string): IdxArray {
  return parseIdx(readMaybeGzip(path), path);
}
