// Seeded CPU random numbers, one module for every seeded stream in focusnet.
//
// `Rng` is the generator API (uniform, integers, normals, permutations, filled arrays),
// written once over a source of uniform u32 words. Two sources sit under it, and both
// are kept because existing seeded streams depend on each one bit for bit:
//   * `SplitMix32` (`nn.Rng`): one u32 word of state. Model and layer initialisation
//     draw from it, so a seed reproduces the weights of every earlier run and of the
//     figures in docs/ (the trainer passes `--seed` and the stage to the model factories).
//   * `Sfc32` (`data.Rng`): four u32 words of state (`state()` saves it, the constructor
//     restores it), seeded by SplitMix32. The loader's per-epoch permutation and
//     augmentation come from it (seeded with deriveSeed(seed, stage, epoch)), so a
//     checkpoint written by an earlier build resumes with the same data order.
// Merging them into one algorithm would change one of those streams for every seed.
// Other seeded streams draw from these two rather than carrying generators of their own:
// the matmul autotune's timed inputs (src/ops/matmul-tune.ts) are SplitMix32 uniforms
// (only their timing and the cross-variant check depend on them, not any result).

const GOLDEN = 0x9e3779b9;

/** The SplitMix32 output function of a (Weyl-sequence) state word. */
function mix32(state: number): number {
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Random numbers over a source of uniform u32 words (`u32()`, supplied by each algorithm). */
export abstract class Rng {
  private spare: number | null = null;

  /** a uniform u32 */
  abstract u32(): number;

  /** uniform in [0, 1), 32 bits of resolution */
  next(): number {
    return this.u32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** standard normal (Box–Muller; the second value is kept for the next call) */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillUniform(n: number, lo: number, hi: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.uniform(lo, hi);
    return a;
  }

  fillNormal(n: number, mean: number, std: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = mean + std * this.normal();
    return a;
  }

  /** Fisher–Yates permutation of 0..n-1 */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}

/** SplitMix32: a Weyl sequence through a mixing function; the initialisation stream (`nn.Rng`). */
export class SplitMix32 extends Rng {
  private s: number;
  constructor(seed = 0) {
    super();
    this.s = (Math.floor(seed) ^ GOLDEN) >>> 0;
  }
  u32(): number {
    this.s = (this.s + GOLDEN) >>> 0;
    return mix32(this.s);
  }
}

export type RngState = [number, number, number, number];

/** sfc32 (Chris Doty-Humphrey's small fast counting generator); the data stream (`data.Rng`). */
export class Sfc32 extends Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** a seed (spread over the four words by SplitMix32), or a state from `state()` */
  constructor(seed: number | RngState) {
    super();
    if (Array.isArray(seed)) {
      [this.a, this.b, this.c, this.d] = seed.map((v) => v >>> 0) as RngState;
    } else {
      let s = seed >>> 0;
      const word = () => mix32((s = (s + GOLDEN) >>> 0));
      this.a = word();
      this.b = word();
      this.c = word();
      this.d = word();
      for (let i = 0; i < 12; i++) this.u32();
    }
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** the four state words (restore with `new Sfc32(state)`); a pending Box–Muller value is not part of it */
  state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }
}

/** A seed derived from several integers (seed, stage, epoch, ...), well mixed. */
export function deriveSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
}

/** Run `fn` with Math.random replaced by a seeded generator (sfc32; deterministic initialisation). */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const orig = Math.random;
  const r = new Sfc32(seed);
  Math.random = () => r.next();
  try {
    return fn();
  } finally {
    Math.random = orig;
  }
}
