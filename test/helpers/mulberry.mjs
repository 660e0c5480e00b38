// mulberry32, seeded: the one generator of the tests' random inputs (ref.mjs's rng builds on it)
// and of the fuzz workers' mutations (every mutation a function of (seed, case index)). No GPU,
// no library: worker threads import it alone.
export function mulberry32(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (a) => a[int(a.length)];
  return { next, int, pick };
}
