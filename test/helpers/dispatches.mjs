// The kernels a piece of code runs: `dispatched(fn)` records the label of every dispatch while fn
// runs (gpu().onDispatch) and returns { result, labels }, or a promise of it when fn is async.
// Tests named after a code path use it to check that the path's kernels really ran.
import { gpu } from './lib.mjs';

export function dispatched(fn) {
  const labels = [];
  const prev = gpu().onDispatch;
  gpu().onDispatch = (l) => {
    labels.push(l);
    if (prev) prev(l);
  };
  let result;
  try {
    result = fn();
  } catch (e) {
    gpu().onDispatch = prev;
    throw e;
  }
  if (result && typeof result.then === 'function') {
    return result.then(
      (r) => {
        gpu().onDispatch = prev;
        return { result: r, labels };
      },
      (e) => {
        gpu().onDispatch = prev;
        throw e;
      },
    );
  }
  gpu().onDispatch = prev;
  return { result, labels };
}
