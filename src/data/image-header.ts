// What an image file declares before any pixel is decoded: its type (PNG or JPEG, from
// the content, not the file name) and its dimensions (PNG IHDR, JPEG SOF), read by
// image-size, and the limits an image must keep to before a decoder may allocate for
// it. A 167-byte PNG that declares 30,000×30,000 pixels is refused here in microseconds.
// Platform-free (see core.ts).
import { PNG as PNG_SIZE } from 'image-size/types/png';
import { JPG as JPG_SIZE } from 'image-size/types/jpg';
import { DataError } from './errors.js';

export interface ImageLimits {
  /** most pixels (width × height) one image may declare */
  maxPixels: number;
  /** most pixels along either side */
  maxSide: number;
}

/** 2^26 pixels (67.1 megapixels, 8192×8192) per image, and no side over 16384 pixels. */
export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxPixels: 2 ** 26, maxSide: 16384 };

export interface ImageHeader {
  type: 'png' | 'jpeg';
  width: number;
  height: number;
}

const pixels = (px: number) => (px >= 1e6 ? `${(px / 1e6).toFixed(1)} megapixels` : `${px} pixels`);

/** Type and size of a PNG or JPEG file; a DataError naming `file` when it is neither, is damaged, or is over the limits. */
export function imageHeader(bytes: Uint8Array, file: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): ImageHeader {
  let type: 'png' | 'jpeg';
  let size: { width?: number; height?: number };
  try {
    // image-size reads through a DataView over the whole underlying ArrayBuffer, past
    // the end of a view. So it only sees copies: of the first 33 bytes (a PNG's
    // signature and IHDR), or of the file (its JPEG scan copies it). A plain Uint8Array
    // view first: a Node Buffer's slice() is another view, not a copy.
    const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const head = plain.slice(0, 33);
    if (PNG_SIZE.validate(head)) {
      type = 'png';
      size = PNG_SIZE.calculate(head);
    } else if (JPG_SIZE.validate(head)) {
      type = 'jpeg';
      size = JPG_SIZE.calculate(plain); // scans the segments of plain.slice(4), a copy
    } else {
      throw new DataError(file, 'not a PNG or JPEG image (unknown signature)');
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(file, `corrupt or truncated image header (${(e as Error).message})`);
  }
  const { width, height } = size;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width! <= 0 || height! <= 0) {
    throw new DataError(file, `corrupt or truncated image (the ${type === 'png' ? 'PNG' : 'JPEG'} header declares ${width}×${height} pixels)`);
  }
  const w = width!;
  const h = height!;
  if (w > limits.maxSide || h > limits.maxSide) {
    throw new DataError(file, `image is ${w}×${h} pixels, over the limit of ${limits.maxSide} pixels per side`);
  }
  if (w * h > limits.maxPixels) {
    throw new DataError(file, `image is ${w}×${h} = ${pixels(w * h)}, over the limit of ${pixels(limits.maxPixels)} per image`);
  }
  return { type, width: w, height: h };
}
