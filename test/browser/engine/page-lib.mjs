// What test/helpers/lib.mjs is in Node, in the page: the library (here its browser build),
// initialised, with the names the helpers import from it.
import * as lib from 'focusnet';

await lib.init();
export const { init, shutdown, gpu, tensor, ops, scope, noGrad, keep, optim, Tensor, tuning, internal, gradcheck } = lib;
export default lib;
