// Float64 CPU references for batch normalization, pooling and dropout (NCHW, PyTorch semantics).

/** Per-channel batch statistics of x [N, C, H, W] (two-pass, float64): { mean, varBiased, varUnbiased }. */
export function bnStats(x, [N, C, H, W]) {
  const HW = H * W;
  const M = N * HW;
  const mean = new Float64Array(C);
  const varB = new Float64Array(C);
  const varU = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
    const m = s / M;
    let q = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) { const d = x[(n * C + c) * HW + i] - m; q += d * d; }
    mean[c] = m;
    varB[c] = q / M;
    varU[c] = M > 1 ? q / (M - 1) : NaN;
  }
  return { mean, varBiased: varB, varUnbiased: varU };
}

export function applyAct(z, act) {
  if (act === 'relu') return Math.max(z, 0);
  if (act === 'relu6') return Math.min(Math.max(z, 0), 6);
  return z;
}

/** y = act(gamma (x - mean)/sqrt(var + eps) + beta) with the given per-channel mean/var. */
export function bnApply(x, shape, mean, variance, gamma, beta, eps = 1e-5, act = 'none') {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const inv = 1 / Math.sqrt(variance[c] + eps);
    const g = gamma ? gamma[c] : 1;
    const b = beta ? beta[c] : 0;
    for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      y[k] = applyAct((x[k] - mean[c]) * inv * g + b, act);
    }
  }
  return y;
}

/** Training-mode batch norm forward in float64. */
export function bnTrain(x, shape, gamma, beta, eps = 1e-5, act = 'none') {
  const s = bnStats(x, shape);
  return bnApply(x, shape, s.mean, s.varBiased, gamma, beta, eps, act);
}

/** PyTorch's running-statistics update. */
export function runningUpdate(rm, rv, stats, momentum = 0.1) {
  return {
    mean: Float64Array.from(rm, (v, c) => (1 - momentum) * v + momentum * stats.mean[c]),
    var: Float64Array.from(rv, (v, c) => (1 - momentum) * v + momentum * stats.varUnbiased[c]),
  };
}

/** Output size of a pooling window, or throws. */
export function poolOut(H, k, s, p) {
  return Math.floor((H + 2 * p - k) / s) + 1;
}

/** maxPool2d forward in float64; window scanned in row-major order, first maximum wins. */
export function maxPoolRef(x, [N, C, H, W], k, s = k, p = 0) {
  const OH = poolOut(H, k, s, p);
  const OW = poolOut(W, k, s, p);
  const y = new Float64Array(N * C * OH * OW);
  const arg = new Int32Array(y.length);
  for (let nc = 0; nc < N * C; nc++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let best = -Infinity;
    let bi = -1;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const ih = oh * s - p + i;
      const iw = ow * s - p + j;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const v = x[nc * H * W + ih * W + iw];
      if (v > best) { best = v; bi = ih * W + iw; }
    }
    const o = (nc * OH + oh) * OW + ow;
    y[o] = best;
    arg[o] = bi;
  }
  return { y, arg, shape: [N, C, OH, OW] };
}

/** avgPool2d forward in float64, count_include_pad (divisor k*k). */
export function avgPoolRef(x, [N, C, H, W], k, s = k, p = 0) {
  const OH = poolOut(H, k, s, p);
  const OW = poolOut(W, k, s, p);
  const y = new Float64Array(N * C * OH * OW);
  for (let nc = 0; nc < N * C; nc++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let acc = 0;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const ih = oh * s - p + i;
      const iw = ow * s - p + j;
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      acc += x[nc * H * W + ih * W + iw];
    }
    y[(nc * OH + oh) * OW + ow] = acc / (k * k);
  }
  return { y, shape: [N, C, OH, OW] };
}

/** Weighted sum used as a scalar loss: sum_i w[i] * y[i]. */
export function dotW(y, w) {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * w[i];
  return s;
}
