// Decoding PNG (./png.ts, fast-png) and JPEG (jpeg-js's decoder) bytes to RGB: the same code in
// Node and a page. The header is read and checked against the limits first (./image-header.ts),
// so no decoder allocates for an image over them; a PNG's image data is checked against its
// header before the decoder sees it (./png-data.ts). Platform-free (see core.ts).
import decodeJpeg from 'jpeg-js/lib/decoder.js';
import { DataError } from './errors.js';
import { DEFAULT_IMAGE_LIMITS, ImageLimits, imageHeader } from './image-header.js';
import { checkPngData } from './png-data.js';
import { decodePng } from './png.js';
import type { Rgb } from './resize.js';

/** Decode a PNG or JPEG file's bytes (the type from its content) to interleaved RGB; `file` names it in errors. */
export function decodeImageBytes(bytes: Uint8Array, file: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Rgb {
  const head = imageHeader(bytes, file, limits);
  if (head.type === 'png') checkPngData(bytes, file);
  let width: number;
  let height: number;
  let rgba: Uint8Array;
  try {
    if (head.type === 'png') {
      ({ width, height, data: rgba } = decodePng(bytes));
    } else {
      const img = decodeJpeg(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: limits.maxPixels / 1e6,
        maxMemoryUsageInMB: Math.ceil((limits.maxPixels * 16) / 2 ** 20),
      });
      width = img.width;
      height = img.height;
      rgba = img.data;
    }
  } catch (e) {
    throw new DataError(file, `corrupt or truncated image (${(e as Error).message})`);
  }
  if (width !== head.width || height !== head.height || rgba.length < width * height * 4) {
    throw new DataError(file, `corrupt image (the header says ${head.width}×${head.height}, the decoder gave ${width}×${height} with ${rgba.length} bytes of pixels)`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    data[i * 3] = rgba[j];
    data[i * 3 + 1] = rgba[j + 1];
    data[i * 3 + 2] = rgba[j + 2];
  }
  return { width, height, data };
}
