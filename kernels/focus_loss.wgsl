// Fused focus-picking loss (FocusNet, Eq. 4-12): per-row loss and dL/dz in one dispatch.
//
// Per row r, with z = FocusNet logits, zb = baseline logits, t = label, y = one-hot(t):
//   p = softmax(z), pb = softmax(zb), u = z + p - pb, q = softmax(u)
//   l = multi-warm label: l'_n = [zb_n > 0] (RULE 0) or [softmax(zb/T)_n > 1/N] (RULE 1),
//       l''_n = max(l'_n, y_n), l = l'' / sum(l'')
//   s = (1 - eps) y + eps / N (label smoothing; eps = 0 gives y)
//   L = -sum s log q + alpha * (-sum l log p) - beta * H(p),   H(p) = -sum p log p
//   dL/dz = g + p*g - p (p.g) + alpha (p - l) + beta p (log p + H),   g = q - s
// Outputs: rowLoss[r] = L (unscaled); dz[r, :] = dL/dz * P.scale (scale = 1/B for the
// batch mean). Every log p is z - max - log sum exp (never log of a softmax).
// Stability: u <= max(z) + 1 since p - pb is in [-1, 1], so exp(u - max(z) - 1) <= 1 and the
// row maximum contributes >= e^-2 to the sum: no second max pass, no overflow at +-80.
//
// Bindings: 0 P (uniform), 1 z [B, N] f32, 2 zb [B, N] f32, 3 labels [B] i32,
//           4 dz [B, N] f32 (read_write: holds exp(u - max - 1) between passes 3 and 4),
//           5 rowLoss [B] f32.
// A row whose label is outside [0, N) writes dz = 0 and rowLoss = 0; the batch reduction
// (kernels/losses.wgsl, FINISH) turns the mean into NaN and records the bad label.
// Override GRAD = 0 skips the gradient (forward only: pass 4 is not run).
// Dispatch: one invocation per row walking its N entries (4 passes over a row that stays
// in cache; no barriers), workgroup 64, grid folded into (x, y): row = gid.x + gid.y*nw.x*64.

struct P { b: u32, n: u32, rule: u32, pad0: u32, alpha: f32, beta: f32, invT: f32, eps: f32, scale: f32 };
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> zb: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowLoss: array<f32>;

override GRAD: u32 = 1u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = gid.x + gid.y * nw.x * 64u;
  if (r >= p.b) { return; }
  let n = p.n;
  let base = r * n;
  let lab = labels[r];
  if (lab < 0 || u32(lab) >= n) {
    if (GRAD == 1u) { for (var j = 0u; j < n; j++) { dz[base + j] = 0.0; } }
    rowLoss[r] = 0.0;
    return;
  }
  let t = u32(lab);

  // pass 1: row maxima
  var mz = z[base];
  var mb = zb[base];
  for (var j = 1u; j < n; j++) {
    mz = max(mz, z[base + j]);
    mb = max(mb, zb[base + j]);
  }
  // pass 2: softmax denominators (and softmax(zb / T)'s for the authors' warm-label rule)
  var sz = 0.0;
  var sb = 0.0;
  var sbt = 0.0;
  for (var j = 0u; j < n; j++) {
    sz += exp(z[base + j] - mz);
    let db = zb[base + j] - mb;
    sb += exp(db);
    if (p.rule == 1u) { sbt += exp(db * p.invT); }
  }
  let lsz = log(sz);
  let isz = 1.0 / sz;
  let isb = 1.0 / sb;
  // softmax(zb/T)_n > 1/N  <=>  (zb_n - mb)/T > log(sbt) - log(N)   (no exp needed)
  let warmCut = log(sbt) - log(f32(n));
  let shift = mz + 1.0;

  // pass 3: sums over the row. eu = exp(u - max(z) - 1) is kept in dz for pass 4.
  var su = 0.0;      // sum exp(u - shift)
  var spq = 0.0;     // sum ez * eu        (p.q = spq / (sz * su))
  var spl = 0.0;     // sum ez * (z - mz)  (sum p log p = spl / sz - lsz)
  var cnt = 0.0;     // warm entries (label included)
  var swl = 0.0;     // sum over warm entries of (z - mz)
  var sumu = 0.0;    // sum (u - mz), for label smoothing
  for (var j = 0u; j < n; j++) {
    let dzj = z[base + j] - mz;
    let db = zb[base + j] - mb;
    let ez = exp(dzj);
    let pj = ez * isz;
    let pbj = exp(db) * isb;
    let uj = dzj + pj - pbj;          // u - mz
    let eu = exp(uj - 1.0);
    su += eu;
    spq += ez * eu;
    spl += ez * dzj;
    sumu += uj;
    var warm = select(zb[base + j] > 0.0, db * p.invT > warmCut, p.rule == 1u);
    warm = warm || j == t;
    cnt += select(0.0, 1.0, warm);
    swl += select(0.0, dzj, warm);
    if (GRAD == 1u) { dz[base + j] = eu; }
  }
  let lsu = log(su);
  let isu = 1.0 / su;
  let ent = lsz - spl * isz;                       // H(p)
  let ratt = lsz - swl / cnt;                      // -sum l log p
  let ut = z[base + t] - mz + exp(z[base + t] - mz) * isz - exp(zb[base + t] - mb) * isb;
  let lqt = ut - 1.0 - lsu;                        // log q_t
  let sumlq = sumu - f32(n) * (1.0 + lsu);         // sum log q
  let lcls = -(1.0 - p.eps) * lqt - p.eps / f32(n) * sumlq;
  rowLoss[r] = lcls + p.alpha * ratt - p.beta * ent;

  if (GRAD == 1u) {
    // pass 4: dL/dz
    let pt = exp(z[base + t] - mz) * isz;
    let pg = spq * isz * isu - ((1.0 - p.eps) * pt + p.eps / f32(n));   // p . g
    let icnt = 1.0 / cnt;
    let en = p.eps / f32(n);
    for (var j = 0u; j < n; j++) {
      let dzj = z[base + j] - mz;
      let pj = exp(dzj) * isz;
      let qj = dz[base + j] * isu;
      var warm = select(zb[base + j] > 0.0, (zb[base + j] - mb) * p.invT > warmCut, p.rule == 1u);
      warm = warm || j == t;
      let sj = select(en, 1.0 - p.eps + en, j == t);
      let g = qj - sj;
      let lj = select(0.0, icnt, warm);
      let d = g + pj * (g - pg) + p.alpha * (pj - lj) + p.beta * pj * (dzj - lsz + ent);
      dz[base + j] = d * p.scale;
    }
  }
}
