// Float64 CPU references and checking tools shared by the tests.
//  - rng(seed): deterministic uniform/normal generators
//  - assertClose(actual, expected, { rtol, atol, what }): elementwise |a-e| <= atol + rtol|e|
//  - fdGrad(ref, arrays): central finite differences of a float64 scalar function
//  - checkGrad({ shapes, engine, ref }): engine's autodiff gradients vs finite differences
//    of the float64 reference, on random non-zero inputs
import * as assert from 'uvu/assert';
import { tensor, scope } from './lib.mjs';

export function rng(seed = 1) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return {
    next,
    normal,
    /** Float64Array of n values uniform in [lo, hi) */
    uniform: (n, lo = -1, hi = 1) => Float64Array.from({ length: n }, () => lo + (hi - lo) * next()),
    randn: (n, scale = 1) => Float64Array.from({ length: n }, () => scale * normal()),
    ints: (n, hi) => Int32Array.from({ length: n }, () => Math.floor(next() * hi)),
  };
}

export const size = (shape) => shape.reduce((a, b) => a * b, 1);

export function assertClose(actual, expected, { rtol = 1e-5, atol = 1e-6, what = 'value' } = {}) {
  assert.is(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0)) {
      if (worst < 0 || !(err <= worstErr)) {
        worst = i;
        worstErr = err;
      }
    }
  }
  if (worst >= 0) {
    assert.unreachable(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Central finite differences of a float64 scalar function of several arrays. */
export function fdGrad(ref, arrays, eps = 1e-6) {
  return arrays.map((arr, k) => {
    const g = new Float64Array(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const old = arr[i];
      arr[i] = old + eps;
      const fp = ref(...arrays);
      arr[i] = old - eps;
      const fm = ref(...arrays);
      arr[i] = old;
      g[i] = (fp - fm) / (2 * eps);
    }
    return g;
  });
}

/**
 * Compare the engine's forward value and autodiff gradients with a float64 reference.
 * `inputs`: Float64Arrays with `shapes`; `engine(...tensors)` returns a scalar Tensor;
 * `ref(...arrays)` the same scalar in float64. Only inputs whose index is in `wrt` get gradients.
 */
export async function checkGrad({ inputs, shapes, engine, ref, wrt, rtol = 1e-3, atol = 1e-4, what = 'grad' }) {
  const which = wrt ?? inputs.map((_, i) => i);
  const ts = inputs.map((a, i) => tensor(Float32Array.from(a), shapes[i], { requiresGrad: which.includes(i) }));
  const out = scope(() => engine(...ts));
  const value = (await out.read())[0];
  // evaluate the reference on the same float32-rounded inputs
  const rounded = inputs.map((a) => Float64Array.from(Float32Array.from(a)));
  const expectedValue = ref(...rounded);
  assertClose([value], [expectedValue], { rtol: 1e-4, atol: 1e-5, what: `${what}: forward` });
  out.backward();
  const expected = fdGrad(ref, rounded);
  for (const i of which) {
    const g = await ts[i].grad.read();
    assertClose(g, expected[i], { rtol, atol, what: `${what}: d/d input ${i}` });
  }
  out.dispose();
  for (const t of ts) t.dispose();
}
