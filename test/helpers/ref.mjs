// Float64 CPU references and checking tools shared by the tests.
//  - rng(seed): deterministic uniform/normal generators
//  - assertClose(actual, expected, { rtol, atol, what }): elementwise |a-e| <= atol + rtol|e|
//  - fdGrad(ref, arrays): central finite differences of a float64 scalar function
//  - checkGrad({ shapes, engine, ref }): engine's autodiff gradients vs finite differences
//    of the float64 reference, on random non-zero inputs
import * as assert from 'uvu/assert';
import { tensor, scope } from './lib.mjs';
import { mulberry32 } from './mulberry.mjs';

export function rng(seed = 1) {
  const { next } = mulberry32(seed);
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
export async function checkGrad({ inputs, shapes, engine, ref, wrt, rtol = 1e-3, atol = 1e-4, fwdRtol = 1e-4, fwdAtol = 1e-5, eps = 1e-6, what = 'grad' }) {
  const which = wrt ?? inputs.map((_, i) => i);
  const ts = inputs.map((a, i) => tensor(Float32Array.from(a), shapes[i], { requiresGrad: which.includes(i) }));
  const out = scope(() => engine(...ts));
  const value = (await out.read())[0];
  // evaluate the reference on the same float32-rounded inputs
  const rounded = inputs.map((a) => Float64Array.from(Float32Array.from(a)));
  const expectedValue = ref(...rounded);
  assertClose([value], [expectedValue], { rtol: fwdRtol, atol: fwdAtol, what: `${what}: forward` });
  out.backward();
  const expected = fdGrad(ref, rounded, eps);
  for (const i of which) {
    const g = await ts[i].grad.read();
    assertClose(g, expected[i], { rtol, atol, what: `${what}: d/d input ${i}` });
  }
  out.dispose();
  for (const t of ts) t.dispose();
}

// ---- float64 reference implementations --------------------------------------------------------

/** NumPy broadcasting of two shapes (throws on a mismatch). */
export function broadcastShape(a, b) {
  const r = Math.max(a.length, b.length);
  const out = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`bad broadcast ${a} ${b}`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Index into `shape` (right-aligned, broadcast) for the flat index `i` of `out`. */
function bindex(i, out, shape) {
  let idx = 0;
  let stride = 1;
  let rem = i;
  for (let k = out.length - 1; k >= 0; k--) {
    const c = rem % out[k];
    rem = Math.floor(rem / out[k]);
    const j = shape.length - out.length + k;
    if (j >= 0) {
      if (shape[j] !== 1) idx += c * stride;
      stride *= shape[j];
    }
  }
  return idx;
}

/** out = f(a, b) elementwise with broadcasting; returns { data, shape }. */
export function refBinary(f, a, as, b, bs) {
  const shape = broadcastShape(as, bs);
  const n = size(shape);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(a[bindex(i, shape, as)], b[bindex(i, shape, bs)]);
  return { data, shape };
}

/** C = op(A)·op(B) for 2-D arrays: A is [m,k] (or [k,m] if transA), B is [k,n] (or [n,k] if transB). */
export function refMatmul(a, b, m, k, n, { transA = false, transB = false } = {}) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += (transA ? a[q * m + i] : a[i * k + q]) * (transB ? b[j * k + q] : b[q * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Batched matmul: a [ba, m, k] (ba 1 broadcasts), b [bb, k, n]; returns [max(ba,bb), m, n]. */
export function refBmm(a, ba, b, bb, m, k, n, opts = {}) {
  const batch = Math.max(ba, bb);
  const c = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const az = a.subarray((ba === 1 ? 0 : z) * m * k, ((ba === 1 ? 0 : z) + 1) * m * k);
    const bz = b.subarray((bb === 1 ? 0 : z) * k * n, ((bb === 1 ? 0 : z) + 1) * k * n);
    c.set(refMatmul(az, bz, m, k, n, opts), z * m * n);
  }
  return c;
}

/** Row-wise softmax (or log-softmax) of a [rows, n] array. */
export function refSoftmax(x, rows, n, log = false) {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, x[r * n + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(x[r * n + j] - m);
    for (let j = 0; j < n; j++) y[r * n + j] = log ? x[r * n + j] - m - Math.log(s) : Math.exp(x[r * n + j] - m) / s;
  }
  return y;
}

/** Reduce `x` of `shape` along `axis` (undefined: everything) with 'sum' | 'mean' | 'max'. */
export function refReduce(x, shape, axis, op) {
  if (axis === undefined) return refReduce(x, [x.length], 0, op);
  const a = axis < 0 ? axis + shape.length : axis;
  const outer = size(shape.slice(0, a));
  const r = shape[a];
  const inner = size(shape.slice(a + 1));
  const y = new Float64Array(outer * inner);
  const arg = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = op === 'max' ? -Infinity : 0;
      let best = 0;
      for (let q = 0; q < r; q++) {
        const v = x[(o * r + q) * inner + i];
        if (op === 'max') {
          if (v > acc) { acc = v; best = q; }
        } else acc += v;
      }
      y[o * inner + i] = op === 'mean' ? acc / r : acc;
      arg[o * inner + i] = best;
    }
  }
  return { y, arg };
}

/** Σ w·y: turns an array output into a scalar with a non-uniform upstream gradient. */
export function dot(w, y) {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += w[i] * y[i];
  return s;
}
