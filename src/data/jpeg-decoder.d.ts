// jpeg-js's decoder alone (its package entry also loads the encoder, which uses Node's Buffer).
declare module 'jpeg-js/lib/decoder.js' {
  import type { decode } from 'jpeg-js';
  const decodeJpeg: typeof decode;
  export default decodeJpeg;
}
