// Seeded CPU random numbers for parameter initialisation: a 32-bit SplitMix
// generator (uniform in [0, 1)) with Box–Muller normals. Models draw their
// initial weights from one stream, in registration order, so a seed reproduces
// every parameter exactly on any machine.

export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** uniform in [0, 1), 32 bits of resolution */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** standard normal (Box–Muller, the second value is kept for the next call) */
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
}
