// IEEE 754 binary16 ("half", WGSL's f16) on the CPU: the bit patterns of f16 tensors as they are
// uploaded (floatToHalf, round to nearest even, overflow to ±Infinity as a GPU's conversion
// does) and read back (halfToFloat, exact). Used by the tensor layer for dtype 'f16'.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The f16 bit pattern nearest to `x` (ties to even; beyond 65504 rounds to ±Infinity; NaN stays NaN). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const man = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0); // Infinity, NaN
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // subnormal half (or zero): the value is man' · 2^-24
    if (e < -10) return sign;
    const full = man | 0x800000; // the implicit bit
    const shift = 14 - e; // 24-bit significand down to the subnormal's 10 bits
    const half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  // rounding may carry into the exponent (and up to Infinity): that is the right result
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

/** The value of an f16 bit pattern (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** f16 bit patterns of `values` (2 bytes each, padded to whole 4-byte words). */
export function toHalfBits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(Math.ceil(values.length / 2) * 2);
  for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
  return out;
}

/** Float32 values of the first `n` f16 bit patterns in `bytes`. */
export function fromHalfBits(bytes: ArrayBuffer, n: number): Float32Array {
  const h = new Uint16Array(bytes, 0, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]);
  return out;
}
