// binary16 on the host for the mixed-precision tests, written independently of src/util/half.ts:
// `f16round(x)` is the f16 value nearest to x (ties to even) by arithmetic on the value rather
// than on bit patterns; `halfExact(n, r)` draws values that f16 holds exactly, so an f16 kernel
// fed them must agree with the float64 reference to f32 accumulation accuracy.

/** Nearest binary16 value (ties to even); ±Infinity beyond the rounding boundary 65520, NaN kept. */
export function f16round(x) {
  if (Number.isNaN(x) || x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  // spacing of f16 values around a: 2^(e − 10) for normals (e >= −14), 2^−24 below
  const e = Math.max(-14, Math.floor(Math.log2(a)));
  let ulp = 2 ** (e - 10);
  // log2 may land one off for values just below a power of two
  if (a >= 2 ** (e + 1)) ulp *= 2;
  const q = a / ulp;
  let r = Math.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r += 1;
  return Math.sign(x) * r * ulp;
}

export const roundAll = (xs) => Float64Array.from(xs, f16round);

/** n values in [lo, hi) that binary16 holds exactly (uniform draws rounded to f16). */
export function halfExact(n, r, lo = -1, hi = 1) {
  return roundAll(r.uniform(n, lo, hi));
}

/**
 * Check `actual` against `ref` (float64 of the unrounded f32 inputs) for a mixed-precision result
 * whose operands were rounded to f16: |actual − ref| <= rel · bound + atol elementwise, where
 * `bound` is Σ|a|·|b| of the same product (the reference run on absolute values). rel = 2^−9:
 * each operand carries a relative rounding error of at most 2^−11 (round to nearest; 2^−10 for a
 * device that rounds either way), so a product is off by at most ~2^−10 of |a·b|, doubled for slack.
 */
export function assertMixedClose(actual, ref, bound, { rel = 2 ** -9, atol = 1e-5, what = 'value' } = {}) {
  if (actual.length !== ref.length) throw new Error(`${what}: length ${actual.length} vs ${ref.length}`);
  let worst = 0, at = -1;
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(actual[i] - ref[i]);
    const tol = rel * bound[i] + atol;
    if (!(err <= tol)) throw new Error(`${what}: element ${i}: got ${actual[i]}, expected ${ref[i]} (error ${err.toExponential(3)} > ${tol.toExponential(3)} = 2^${Math.log2(rel)}·Σ|a||b| + ${atol})`);
    if (err / tol > worst) { worst = err / tol; at = i; }
  }
  return { worst, at };
}
