// The kernels a piece of code runs: `dispatched(fn)` records the label and the kernel (registry
// name) of every dispatch while fn runs (gpu().onDispatch) and returns { result, labels, kernels },
// or a promise of it when fn is async.
// Tests named after a code path use it to check that the path's kernels really ran.
import { gpu } from './lib.mjs';

export function dispatched(fn) {
  const labels = [];
  const kernels = [];
  const prev = gpu().onDispatch;
  gpu().onDispatch = (l, k) => {
    labels.push(l);
    kernels.push(k);
    if (prev) prev(l, k);
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
        return { result: r, labels, kernels };
      },
      (e) => {
        gpu().onDispatch = prev;
        throw e;
      },
    );
  }
  gpu().onDispatch = prev;
  return { result, labels, kernels };
}
