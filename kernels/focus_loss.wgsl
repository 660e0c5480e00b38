// Fused focus-picking loss (FocusNet, Eq. 4-12): per-row loss and dL/dz in one dispatch.
//
// Per row r, with z = FocusNet logits, zb = baseline logits, t = label, y = one-hot(t):
//   p = softmax(z), pb = softmax(zb), u = z + p - pb, q = softmax(u)
//   l = multi-warm label: l'_n = [zb_n > 0] (rule 0) or [softmax(zb/T)_n > 1/N] (rule 1),
//       l''_n = max(l'_n, y_n), l = l'' / sum(l'')
//   s = (1 - eps) y + eps / N (label smoothing; eps = 0 gives y)
//   L = -sum s log q + alpha * (-sum l log p) - beta * H(p),   H(p) = -sum p log p
//   dL/dz = g + p*g - p (p.g) + alpha (p - l) + beta p (log p + H),   g = q - s
// Outputs: rowLoss[r] = L (unscaled); dz[r, :] = dL/dz * p.scale (1/B for the batch mean).
//
// Three passes over a row (it stays in cache):
//  1. log-sum-exp of z and zb (and of zb/T for rule 1) in one pass, shifted by the row's
//     first entry while tracking the maxima; only a row whose spread exceeds 64 (logits
//     of +-80) takes a second pass shifted by the maxima. log p = z - lse(z), never a log
//     of a softmax.
//  2. u - lse(z) = log p + p - pb <= 1, so eu = exp(u - lse(z) - 1) <= 1 and sum eu >=
//     e^-2: no max pass for u, no overflow. Sums for log q, H, the warm label and p.q;
//     eu is stored in dz, negated on warm entries (eu >= 0, so the sign carries the flag;
//     a warm eu that underflowed is stored as -1e-37, negligible in q).
//  3. dL/dz from z, the stored eu and the row scalars (zb is not read again).
// A label outside [0, N) is clamped here (reads stay in bounds); FINISH in
// kernels/losses.wgsl scans the labels, makes the batch mean NaN and records the bad one.
// Override GRAD = 0: forward only (no dz writes; bind any 16-byte buffer as dz). Override RULE:
// the warm-label rule (below).
//
// Variants W1 / W2 / W4: each invocation loads f32 / vec2 / vec4 (N % W == 0; rows of z,
// zb, dz are then W-aligned); vec4 loads run ~1.6x faster on lavapipe than scalar ones.
// Params: FocusParams { rows (B), classes (N), alpha, beta, inv_temperature (1 / T of the
//         softmax rule), eps (label smoothing), scale } (binding 0, declared in src/losses/focus.ts).
// Bindings: 0 P (uniform), 1 z [B, N] f32, 2 zb [B, N] f32, 3 labels [B] i32,
//           4 dz [B, N] f32 (read_write), 5 rowLoss [B] f32.
// Dispatch: one invocation per row walking its N entries (no barriers: what lavapipe runs
// fast), workgroup 64, grid folded into (x, y): row = gid.x + gid.y * nw.x * 64.

//#params
@group(0) @binding(1) var<storage, read> z: array<V>;
@group(0) @binding(2) var<storage, read> zb: array<V>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read_write> dz: array<V>;
@group(0) @binding(5) var<storage, read_write> rowLoss: array<f32>;
override GRAD: u32 = 1u;
// Override RULE: the warm-label rule (0: zb > 0; 1: softmax(zb / T) > 1/N). A constant, not a
// uniform: with a uniform, rule 0 cost as much as rule 1 on lavapipe (its extra exp was paid).
override RULE: u32 = 0u;
// V, VU, W, first, hsum, hmax, idx, elem: kernels/vec_width.wgsl (block W1/W2/W4, appended by rowLossKernels).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = gid.x + gid.y * nw.x * 64u;
  if (r >= p.rows) { return; }
  let n = p.classes;
  let nv = n / W;
  let base = r * nv;
  let lab = labels[r];
  let t = min(u32(max(lab, 0)), n - 1u);   // bad labels: see FINISH
  let soft = RULE == 1u;
  let z0 = first(z[base]);
  let b0 = first(zb[base]);
  var mz = V(z0); var mb = V(b0);
  var sz = V(0.0); var sb = V(0.0); var sbt = V(0.0);
  for (var j = 0u; j < nv; j++) {
    let zj = z[base + j];
    let bj = zb[base + j];
    mz = max(mz, zj); mb = max(mb, bj);
    sz += exp(zj - z0);
    let db = bj - b0;
    sb += exp(db);
    if (soft) { sbt += exp(db * p.inv_temperature); }
  }
  let mzs = hmax(mz); let mbs = hmax(mb);
  var lz = z0 + log(hsum(sz));
  var lb = b0 + log(hsum(sb));
  var lbt = log(hsum(sbt));
  if (mzs - z0 > 64.0 || mbs - b0 > 64.0) {
    sz = V(0.0); sb = V(0.0); sbt = V(0.0);
    for (var j = 0u; j < nv; j++) {
      sz += exp(z[base + j] - mzs);
      let db = zb[base + j] - mbs;
      sb += exp(db);
      if (soft) { sbt += exp(db * p.inv_temperature); }
    }
    lz = mzs + log(hsum(sz)); lb = mbs + log(hsum(sb));
    lbt = log(hsum(sbt)) + (mbs - b0) * p.inv_temperature;
  }
  let warmCut = lbt - log(f32(n));
  var su = V(0.0); var spq = V(0.0); var spl = V(0.0); var sumu = V(0.0); var cnt = V(0.0); var swl = V(0.0);
  for (var j = 0u; j < nv; j++) {
    let lp = z[base + j] - lz;
    let bj = zb[base + j];
    let pj = exp(lp);
    let uj = lp + pj - exp(bj - lb);
    let eu = exp(uj - 1.0);
    su += eu;
    spq += pj * eu;
    spl += pj * lp;
    sumu += uj;
    let warm = select(bj > V(0.0), (bj - b0) * p.inv_temperature > V(warmCut), soft) | (idx(j) == VU(t));
    cnt += select(V(0.0), V(1.0), warm);
    swl += select(V(0.0), lp, warm);
    if (GRAD == 1u) { dz[base + j] = select(eu, -max(eu, V(1e-37)), warm); }   // -0 would lose the flag
  }
  let lsu = log(hsum(su));
  let isu = 1.0 / hsum(su);
  let ent = -hsum(spl);
  let c = hsum(cnt);
  let ratt = -hsum(swl) / c;
  let lpt = elem(z[base + t / W], t % W) - lz;
  let ut = lpt + exp(lpt) - exp(elem(zb[base + t / W], t % W) - lb);
  let lqt = ut - 1.0 - lsu;
  let sumlq = hsum(sumu) - f32(n) * (1.0 + lsu);
  let en = p.eps / f32(n);
  rowLoss[r] = -(1.0 - p.eps) * lqt - en * sumlq + p.alpha * ratt - p.beta * ent;
  if (GRAD == 1u) {
    let pt = exp(lpt);
    let pg = hsum(spq) * isu - ((1.0 - p.eps) * pt + en);
    let al = p.alpha / c;
    let k0 = p.alpha - pg + p.beta * (ent - lz);
    for (var j = 0u; j < nv; j++) {
      let zj = z[base + j];
      let lp = zj - lz;
      let pj = exp(lp);
      let e = dz[base + j];
      let sj = select(V(en), V(1.0 - p.eps + en), idx(j) == VU(t));
      let g = abs(e) * isu - sj;
      let d = g + pj * (g + k0 + p.beta * zj) - select(V(0.0), V(al), e < V(0.0));
      dz[base + j] = d * p.scale;
    }
  }
}
