// The statistics of an experiment, over seeds:
// - per method: the mean and the sample standard deviation (n − 1 in the denominator)
//   of top-1 and top-5;
// - per comparison (a method against a reference, e.g. the baseline or the CE control):
//   the seed-by-seed difference d_s = method_s − reference_s over the seeds both have,
//   its mean, and a 95% confidence interval mean ± t(0.975, n − 1) · sd(d) / √n from
//   Student's t distribution (the paired t interval); the seeds won (d > 0), lost (d < 0)
//   and tied (d = 0). The t quantile comes from jStat.
import jstat from 'jstat';

const { studentt } = jstat;

/** The p-quantile of Student's t distribution with `dof` degrees of freedom. */
export function tQuantile(p: number, dof: number): number {
  if (!(dof >= 1) || !(p > 0 && p < 1)) return NaN;
  return studentt.inv(p, dof);
}

export interface MeanSd {
  n: number;
  mean: number;
  /** sample standard deviation; NaN for fewer than two values */
  sd: number;
}

export function meanSd(xs: readonly number[]): MeanSd {
  const n = xs.length;
  if (n === 0) return { n, mean: NaN, sd: NaN };
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  const sd = n < 2 ? NaN : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd };
}

export interface PairedDifference extends MeanSd {
  /** standard error of the mean difference, sd / √n */
  se: number;
  /** t(0.975, n − 1) */
  t: number;
  /** the 95% confidence interval of the mean difference (NaN for n < 2) */
  lo: number;
  hi: number;
  won: number;
  lost: number;
  tied: number;
  /** the seeds compared, ascending */
  seeds: number[];
}

/**
 * The paired difference a − b over the seeds both have a value for (seed → value);
 * `level` is the confidence level [0.95].
 */
export function pairedDifference(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, level = 0.95): PairedDifference {
  const seeds = [...a.keys()].filter((s) => b.has(s) && Number.isFinite(a.get(s)) && Number.isFinite(b.get(s))).sort((x, y) => x - y);
  const d = seeds.map((s) => a.get(s)! - b.get(s)!);
  const m = meanSd(d);
  const se = m.sd / Math.sqrt(m.n);
  const t = tQuantile(1 - (1 - level) / 2, m.n - 1);
  return {
    ...m,
    se,
    t,
    lo: m.mean - t * se,
    hi: m.mean + t * se,
    won: d.filter((x) => x > 0).length,
    lost: d.filter((x) => x < 0).length,
    tied: d.filter((x) => x === 0).length,
    seeds,
  };
}
