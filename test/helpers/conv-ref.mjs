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

/**
 * Visit every tap of the convolution in a fixed order: for each output element (N, Cout,
 * OH, OW order) each (ci, ky, kx) of its window that falls inside the image, as
 * visit(yi, xi, wi) with the flat indices of the output, input and weight elements.
 */
function forEachTap(g, visit) {
  for (let n = 0; n < g.n; n++)
    for (let co = 0; co < g.cout; co++) {
      const grp = Math.floor(co / g.coutg);
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          const yi = ((n * g.cout + co) * g.oh + oy) * g.ow + ox;
          for (let ci = 0; ci < g.cing; ci++) {
            const c = grp * g.cing + ci;
            for (let ky = 0; ky < g.kh; ky++) {
              const iy = oy * g.sh - g.ph + ky;
              if (iy < 0 || iy >= g.h) continue;
              for (let kx = 0; kx < g.kw; kx++) {
                const ix = ox * g.sw - g.pw + kx;
                if (ix < 0 || ix >= g.w) continue;
                visit(yi, ((n * g.cin + c) * g.h + iy) * g.w + ix, ((co * g.cing + ci) * g.kh + ky) * g.kw + kx);
              }
            }
          }
        }
    }
}

/** Output channel of flat output index i. */
const channelOf = (g, i) => Math.floor(i / (g.oh * g.ow)) % g.cout;

/** The fused activation of conv2d options: act, or the deprecated relu: true. */
export const actOf = (opts = {}) => opts.act ?? (opts.relu ? 'relu' : 'none');

/** act(v) for 'none' | 'relu' | 'relu6'. */
export function applyAct(v, act) {
  if (act === 'relu') return Math.max(0, v);
  if (act === 'relu6') return Math.min(6, Math.max(0, v));
  return v;
}

/** The upstream gradient of the pre-activation: g masked where the activation is flat at output y. */
export function actMask(g, y, act) {
  if (act === 'relu') return g.map((v, i) => (y[i] > 0 ? v : 0));
  if (act === 'relu6') return g.map((v, i) => (y[i] > 0 && y[i] < 6 ? v : 0));
  return g;
}

/** y = act(conv(x, w) + b) (act from opts.act or opts.relu), Float64Array [N, Cout, OH, OW]. */
export function conv2dRef(x, xs, w, ws, b, opts = {}) {
  const g = convGeom(xs, ws, opts);
  const y = new Float64Array(g.n * g.cout * g.oh * g.ow);
  if (b) for (let i = 0; i < y.length; i++) y[i] = b[channelOf(g, i)];
  forEachTap(g, (yi, xi, wi) => {
    y[yi] += x[xi] * w[wi];
  });
  const act = actOf(opts);
  if (act !== 'none') for (let i = 0; i < y.length; i++) y[i] = applyAct(y[i], act);
  return y;
}

/**
 * Gradients of L = Σ gy · y (y without the activation) with respect to x, w and b: each tap's
 * contribution y[yi] += x[xi]·w[wi] sends gy[yi]·w[wi] to gx and gy[yi]·x[xi] to gw.
 */
export function conv2dGradRef(gy, x, xs, w, ws, opts = {}) {
  const g = convGeom(xs, ws, opts);
  const gx = new Float64Array(x.length);
  const gw = new Float64Array(w.length);
  const gb = new Float64Array(g.cout);
  for (let i = 0; i < g.n * g.cout * g.oh * g.ow; i++) gb[channelOf(g, i)] += gy[i];
  forEachTap(g, (yi, xi, wi) => {
    gx[xi] += gy[yi] * w[wi];
    gw[wi] += gy[yi] * x[xi];
  });
  return { gx, gw, gb };
}
