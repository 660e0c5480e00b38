// Float64 CPU reference for conv2d (PyTorch semantics: NCHW, OIHW, zero padding, groups)
// and its gradients, for the conv tests.

const pair = (v, d) => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

/** Output shape and hyper-parameters. */
export function convGeom(xs, ws, { stride, padding, groups = 1 } = {}) {
  const [sh, sw] = pair(stride, 1);
  const [ph, pw] = pair(padding, 0);
  const [n, cin, h, w] = xs;
  const [cout, cing, kh, kw] = ws;
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  return { n, cin, h, w, cout, cing, kh, kw, sh, sw, ph, pw, groups, coutg: cout / groups, oh, ow };
}

/** y = conv(x, w) + b (then ReLU when relu), Float64Array [N, Cout, OH, OW]. */
export function conv2dRef(x, xs, w, ws, b, opts = {}) {
  const g = convGeom(xs, ws, opts);
  const y = new Float64Array(g.n * g.cout * g.oh * g.ow);
  for (let n = 0; n < g.n; n++)
    for (let co = 0; co < g.cout; co++) {
      const grp = Math.floor(co / g.coutg);
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let s = b ? b[co] : 0;
          for (let ci = 0; ci < g.cing; ci++) {
            const c = grp * g.cing + ci;
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.ph + ky;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pw + kx;
                if (ix < 0 || ix >= g.w) continue;
                s += x[((n * g.cin + c) * g.h + iy) * g.w + ix] * w[((co * g.cing + ci) * g.kh + ky) * g.kw + kx];
              }
            }
          }
          y[((n * g.cout + co) * g.oh + oy) * g.ow + ox] = opts.relu ? Math.max(0, s) : s;
        }
    }
  return y;
}

/**
 * Gradients of L = Σ gy · y (y without ReLU) with respect to x, w and b: the adjoint
 * convolutions written directly, independent of the forward loops' structure.
 */
export function conv2dGradRef(gy, x, xs, w, ws, opts = {}) {
  const g = convGeom(xs, ws, opts);
  const gx = new Float64Array(x.length);
  const gw = new Float64Array(w.length);
  const gb = new Float64Array(g.cout);
  for (let n = 0; n < g.n; n++)
    for (let co = 0; co < g.cout; co++) {
      const grp = Math.floor(co / g.coutg);
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          const d = gy[((n * g.cout + co) * g.oh + oy) * g.ow + ox];
          gb[co] += d;
          for (let ci = 0; ci < g.cing; ci++) {
            const c = grp * g.cing + ci;
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.ph + ky;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pw + kx;
                if (ix < 0 || ix >= g.w) continue;
                const xi = ((n * g.cin + c) * g.h + iy) * g.w + ix;
                const wi = ((co * g.cing + ci) * g.kh + ky) * g.kw + kx;
                gx[xi] += d * w[wi];
                gw[wi] += d * x[xi];
              }
            }
          }
        }
    }
  return { gx, gw, gb };
}
