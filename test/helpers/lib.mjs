// The library under test: the built bundle users get (dist/index.js), or the build
// named by FOCUSNET_DIST. Tests import everything from here.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.FOCUSNET_DIST ? resolve(process.env.FOCUSNET_DIST) : resolve(new URL('../../dist', import.meta.url).pathname);
const lib = await import(pathToFileURL(`${dist}/index.js`).href);
await lib.init();
export const { init, shutdown, gpu, tensor, ops, scope, noGrad, keep, optim, Tensor, tuning, internal, gradcheck } = lib;
export default lib;
export const distDir = dist;
