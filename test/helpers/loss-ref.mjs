// Float64 CPU references of the losses (test/losses*.test.mjs): values and analytic
// gradients with respect to z, written from the equations in docs/losses.md.
// Arrays are flat row-major [B, N]; labels an Int32Array [B].

import { refSoftmax } from './ref.mjs';

/** log softmax(x[o .. o + n) * invT) */
function logSoftmaxRow(x, o, n, invT = 1) {
  return refSoftmax(Float64Array.from({ length: n }, (_, j) => x[o + j] * invT), 1, n, true);
}

/** multi-warm label [B*N] */
export function warmLabelRef(zb, labels, B, N, { rule = 'positive-logit', temperature = 2 } = {}) {
  const out = new Float64Array(B * N);
  for (let r = 0; r < B; r++) {
    const o = r * N;
    let lpt = null;
    if (rule === 'softmax') lpt = logSoftmaxRow(zb, o, N, 1 / temperature);
    let c = 0;
    for (let j = 0; j < N; j++) {
      const w = (rule === 'softmax' ? Math.exp(lpt[j]) > 1 / N : zb[o + j] > 0) || j === labels[r];
      out[o + j] = w ? 1 : 0;
      c += out[o + j];
    }
    for (let j = 0; j < N; j++) out[o + j] = c > 0 ? out[o + j] / c : 0;
  }
  return out;
}

/** focus-picking loss (batch mean) and dL/dz */
export function focusRef(z, zb, labels, B, N, { alpha = 1, beta = 1, rule = 'positive-logit', temperature = 2, labelSmoothing = 0 } = {}) {
  const l = warmLabelRef(zb, labels, B, N, { rule, temperature });
  const eps = labelSmoothing;
  const grad = new Float64Array(B * N);
  let total = 0;
  for (let r = 0; r < B; r++) {
    const o = r * N;
    const t = labels[r];
    const logp = logSoftmaxRow(z, o, N);
    const logpb = logSoftmaxRow(zb, o, N);
    const p = logp.map(Math.exp);
    const u = new Float64Array(N);
    for (let j = 0; j < N; j++) u[j] = z[o + j] + p[j] - Math.exp(logpb[j]);
    const logq = logSoftmaxRow(u, 0, N);
    const s = new Float64Array(N).fill(eps / N);
    s[t] += 1 - eps;
    let lcls = 0, ratt = 0, ent = 0;
    for (let j = 0; j < N; j++) {
      lcls -= s[j] * logq[j];
      ratt -= l[o + j] * logp[j];
      ent -= p[j] * logp[j];
    }
    total += lcls + alpha * ratt - beta * ent;
    const g = new Float64Array(N);
    let pg = 0;
    for (let j = 0; j < N; j++) { g[j] = Math.exp(logq[j]) - s[j]; pg += p[j] * g[j]; }
    for (let j = 0; j < N; j++) {
      grad[o + j] = (g[j] + p[j] * g[j] - p[j] * pg + alpha * (p[j] - l[o + j]) + beta * p[j] * (logp[j] + ent)) / B;
    }
  }
  return { value: total / B, grad };
}

/** cross-entropy with label smoothing (batch mean) and dL/dz */
export function ceRef(z, labels, B, N, { labelSmoothing = 0 } = {}) {
  const eps = labelSmoothing;
  const grad = new Float64Array(B * N);
  let total = 0;
  for (let r = 0; r < B; r++) {
    const o = r * N;
    const logp = logSoftmaxRow(z, o, N);
    for (let j = 0; j < N; j++) {
      const s = eps / N + (j === labels[r] ? 1 - eps : 0);
      total -= s * logp[j];
      grad[o + j] = (Math.exp(logp[j]) - s) / B;
    }
  }
  return { value: total / B, grad };
}

/** Hinton KD term T^2 KL(softmax(zb/T) || softmax(z/T)) (batch mean) and dL/dz */
export function kdRef(z, zb, B, N, { temperature = 4 } = {}) {
  const T = temperature;
  const grad = new Float64Array(B * N);
  let total = 0;
  for (let r = 0; r < B; r++) {
    const o = r * N;
    const lps = logSoftmaxRow(z, o, N, 1 / T);
    const lpt = logSoftmaxRow(zb, o, N, 1 / T);
    for (let j = 0; j < N; j++) {
      const pt = Math.exp(lpt[j]);
      total += T * T * pt * (lpt[j] - lps[j]);
      grad[o + j] = (T * (Math.exp(lps[j]) - pt)) / B;
    }
  }
  return { value: total / B, grad };
}
