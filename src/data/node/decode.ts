// File access (see files.ts): reading and decoding a PNG or JPEG file (../decode.ts decodes).
import { DEFAULT_IMAGE_LIMITS, ImageLimits } from '../image-header.js';
import { decodeImageBytes } from '../decode.js';
import type { Rgb } from '../resize.js';
import { hostFiles } from '../../platform/files.js';
import { readDataFile } from './files.js';

export { decodeImageBytes };

/** Read and decode a PNG or JPEG file; every failure is a DataError naming it. */
export function decodeImage(path: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Rgb {
  hostFiles('data.decodeImage');
  return decodeImageBytes(readDataFile(path, 'image'), path, limits);
}
