// Batch normalization over NCHW activations, per channel c, M = N*H*W values each.
// Instantiated per width (V1: f32 units; V4: vec4<f32> units, when H*W % 4 == 0) and per
// activation (ACT/GZ substitutions: none, relu, relu6). NaN propagates through the activation as in
// PyTorch, and so does its gradient where the saved output is NaN (is_nan tests the bits: compilers
// may assume v != v is false).
//
// Uniforms (//#params): BatchNormParams (src/ops/norm.ts), one block for every pass: channels C;
// plane_units, units per (n, c) plane (H*W / width); channel_units (N * plane_units);
// chunk_units L and chunks R, the partial passes' chunking of a channel; sample_units
// (C * plane_units); total_units; lane_stride la, step_stride lb (lane_range); update_running
// (stats_merge: update the running statistics); eval_grad (grad_merge: eval coefficients); eps,
// momentum; channel_values M (f32). In the _x passes plane_units is in values, total_units in vec4s.
//
// Statistics are taken relative to a per-channel shift K, the median of three of the channel's
// values (x - K is exact for values near K, which keeps a channel of mean 1000 and std 0.01
// accurate in f32). Lanes reduce register blocks of 4 units exactly (two-pass on registers) and
// fold them into a running (count, mean, M2) with Chan's formula; the merge pass combines the
// lane partials with the same formula. Nothing forms sum(x^2) - sum(x)^2/n: no cancellation.
//
// Partial passes: a channel's units (flattened (n, hw) index) are cut into R chunks of L units;
// workgroup (r, c) of 64 lanes takes chunk r of channel c, lane l the units
// r*L + l*la + j*lb, j < L/64 (see lane_range: contiguous runs on a CPU adapter, interleaved on
// a GPU). Elementwise passes: invocation t takes UNITS consecutive units from t*UNITS (override
// constant: 8 on a CPU adapter, 1 on a GPU), tracking the channel incrementally.
//
// stats_partial: part[(c*R + r)*64 + l] = (count, mean(x-K), M2, 0) of lane l's units
//                bindings: 0 P, 1 x, 2 part                 dispatch (R, C), workgroup 64
// stats_merge:   per channel, Chan merge of the R*64 partials; writes
//                st[c] = (K, mean(x-K), invstd, 0 | gamma*invstd, beta, 0, 0) and, when
//                update_running, updates running mean/var in place (unbiased variance).
//                bindings: 0 P, 1 x, 2 part, 3 gamma, 4 beta, 5 rmean, 6 rvar, 7 st
//                MERGE_SERIAL (CPU adapters): one invocation per channel, dispatch ceil(C/64);
//                MERGE_WG (GPUs): one workgroup of 64 per channel, lanes merge strided shares,
//                then a tree in workgroup memory; dispatch C. Workgroup 64 both.
// eval_coef:     st[c] from the running statistics (K = 0)
//                bindings: 0 P, 1 gamma, 2 beta, 3 rmean, 4 rvar, 5 st      dispatch ceil(C/64)
// normalize:     y = ACT(((x - K) - mean) * scale + beta)
//                bindings: 0 P, 1 x, 2 st, 3 y      dispatch 1-D over units/UNITS, workgroup 64
// grad_partial:  gz = g masked by the activation (saved output y); per lane sums of gz and
//                gz*xhat, xhat = ((x-K)-mean)*invstd
//                bindings: 0 P, 1 g, 2 x, 3 st, 4 part[, 5 y]   dispatch (R, C), workgroup 64
// grad_merge:    per channel Sg, Sgx -> dgamma = Sgx, dbeta = Sg and the coefficients of
//                dx = p*gz + q*xhat + r (training: p = gamma*invstd, q = -p*Sgx/M, r = -p*Sg/M;
//                eval, eval_grad: q = r = 0), written to co[c] = (K, mean, invstd, 0 | p, q, r, 0)
//                bindings: 0 P, 1 part, 2 st, 3 gamma, 4 co, 5 dgamma, 6 dbeta
//                MERGE_SERIAL / MERGE_WG as stats_merge
// grad_input:    dx = p*gz + q*xhat + r
//                bindings: 0 P, 1 g, 2 x, 3 co, 4 dx[, 5 y]   dispatch 1-D over units/UNITS, wg 64
// normalize_x, grad_input_x: the same with vec4 units when only the total size is a multiple of
//                4 (H*W >= 4); a unit straddling two channels mixes their coefficients per lane.

//#params

//#if V1
alias VT = f32;
const W = 1u;
fn hsum(v: VT) -> f32 { return v; }
fn lead(v: VT) -> f32 { return v; }
fn is_nan(v: VT) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
//#endif
//#if V4
alias VT = vec4<f32>;
const W = 4u;
fn hsum(v: VT) -> f32 { return v.x + v.y + v.z + v.w; }
fn lead(v: VT) -> f32 { return v.x; }
fn is_nan(v: VT) -> vec4<bool> { return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u); }
//#endif

const LANES = 64u;
// units per invocation of the elementwise passes (normalize, grad_input): several on a CPU
// adapter (fewer loop trips and channel look-ups), 1 on a GPU
override UNITS: u32 = 8u;

// Lane geometry of the partial passes: lane l of chunk r takes the units
// r*L + l*la + j*lb, j < L/64 (la = L/64, lb = 1: a contiguous run per lane, fast on a CPU
// adapter; la = 1, lb = 64: interleaved, coalesced on a GPU). Returns (first unit, count).
fn lane_range(r: u32, lid: u32) -> vec2<u32> {
  let S = p.chunk_units / LANES;
  let e0 = r * p.chunk_units + lid * p.lane_stride;
  var cnt = 0u;
  if (e0 < p.channel_units) { cnt = min(S, (p.channel_units - e0 + p.step_stride - 1u) / p.step_stride); }
  return vec2<u32>(e0, cnt);
}

// Walks a channel's units lb apart: (n, h) of the current unit.
struct Walk { n: u32, h: u32, dn: u32, dh: u32, };
fn walk_start(e: u32) -> Walk {
  return Walk(e / p.plane_units, e % p.plane_units, p.step_stride / p.plane_units, p.step_stride % p.plane_units);
}
fn walk_next(w: ptr<function, Walk>) {
  (*w).h = (*w).h + (*w).dh;
  (*w).n = (*w).n + (*w).dn;
  if ((*w).h >= p.plane_units) { (*w).h = (*w).h - p.plane_units; (*w).n = (*w).n + 1u; }
}

// Unit address of (n, c, h) in x viewed as [N, C, HW] units.
fn addr(n: u32, c: u32, h: u32) -> u32 { return n * p.sample_units + c * p.plane_units + h; }

//#if SHIFT
// The channel's shift K: the median of three of its values (first, middle, last), so a single
// outlier cannot be the reference the others are measured from. Both statistics passes call it.
fn shift_of(c: u32) -> f32 {
  let n = p.channel_units / p.plane_units;
  let a = lead(x[addr(0u, c, 0u)]);
  let b = lead(x[addr(n / 2u, c, p.plane_units / 2u)]);
  let d = lead(x[addr(n - 1u, c, p.plane_units - 1u)]);
  return max(min(a, b), min(max(a, b), d));
}
//#endif

//#if STATS_PARTIAL
@group(0) @binding(1) var<storage, read> x: array<VT>;
@group(0) @binding(2) var<storage, read_write> part: array<vec4<f32>>;
// The next unit of the walk minus K (0 when !ok).
fn take(w: ptr<function, Walk>, c: u32, K: VT, ok: bool) -> VT {
  if (!ok) { return VT(0.0); }
  let v = x[addr((*w).n, c, (*w).h)] - K;
  walk_next(w);
  return v;
}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let c = wid.y;
  let K = VT(shift_of(c));
  let lr = lane_range(r, lid);
  var w = walk_start(lr.x);
  var na = 0.0;
  var ma = 0.0;
  var m2 = 0.0;
  for (var j = 0u; j < lr.y; j = j + 4u) {
    // a register block of up to 4 units: exact two-pass, then Chan merge into (na, ma, m2)
    let cnt = min(4u, lr.y - j);
    let v0 = take(&w, c, K, true);
    let v1 = take(&w, c, K, cnt > 1u);
    let v2 = take(&w, c, K, cnt > 2u);
    let v3 = take(&w, c, K, cnt > 3u);
    let nb = f32(cnt * W);
    let mb = hsum(v0 + v1 + v2 + v3) / nb;
    let d0 = v0 - VT(mb);
    let d1 = select(VT(0.0), v1 - VT(mb), cnt > 1u);
    let d2 = select(VT(0.0), v2 - VT(mb), cnt > 2u);
    let d3 = select(VT(0.0), v3 - VT(mb), cnt > 3u);
    let q = hsum(d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3);
    let nab = na + nb;
    let delta = mb - ma;
    ma = ma + delta * (nb / nab);
    m2 = m2 + q + delta * delta * (na * nb / nab);
    na = nab;
  }
  part[(c * p.chunks + r) * LANES + lid] = vec4<f32>(na, ma, m2, 0.0);
}
//#endif

//#if STATS_MERGE
@group(0) @binding(1) var<storage, read> x: array<VT>;
@group(0) @binding(2) var<storage, read> part: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> rmean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rvar: array<f32>;
@group(0) @binding(7) var<storage, read_write> st: array<vec4<f32>>;
// Chan's merge of two (count, mean, M2) summaries; an empty one leaves the other as it is.
fn chan(a: vec3<f32>, b: vec3<f32>) -> vec3<f32> {
  if (b.x == 0.0) { return a; }
  let n = a.x + b.x;
  let delta = b.y - a.y;
  return vec3<f32>(n, a.y + delta * (b.x / n), a.z + b.z + delta * delta * (a.x * b.x / n));
}
// Lane `lane` of `lanes` merges the channel's partials lane, lane + lanes, ...
fn merge_partials(c: u32, lane: u32, lanes: u32) -> vec3<f32> {
  let np = p.chunks * LANES;
  var q = vec3<f32>(0.0);
  for (var j = lane; j < np; j = j + lanes) { q = chan(q, part[c * np + j].xyz); }
  return q;
}
// The channel's coefficients and running statistics from its merged (count, mean(x-K), M2).
fn finish_stats(c: u32, q: vec3<f32>) {
  let K = shift_of(c);
  let varb = q.z / p.channel_values;
  let invstd = 1.0 / sqrt(varb + p.eps);
  st[2u * c] = vec4<f32>(K, q.y, invstd, 0.0);
  st[2u * c + 1u] = vec4<f32>(gamma[c] * invstd, beta[c], 0.0, 0.0);
  if (p.update_running != 0u) {
    let mom = p.momentum;
    rmean[c] = (1.0 - mom) * rmean[c] + mom * (K + q.y);
    rvar[c] = (1.0 - mom) * rvar[c] + mom * (q.z / (p.channel_values - 1.0));
  }
}
//#endif

//#if MERGE_SERIAL
// The merge entry points, shared by stats_merge and grad_merge: MERGE_T is the partials'
// summary type, COMBINE merges two summaries, FINISH writes a channel's results.
// CPU adapters: one invocation per channel walks its partials (no barriers).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.channels) { return; }
  FINISH(c, merge_partials(c, 0u, 1u));
}
//#endif

//#if MERGE_WG
// GPUs: one workgroup per channel; each lane merges a strided share of the partials, then a
// tree over the 64 lanes in workgroup memory.
var<workgroup> red: array<MERGE_T, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  red[lid] = merge_partials(c, lid, 64u);
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = COMBINE(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { FINISH(c, red[0]); }
}
//#endif

//#if EVAL_COEF
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> rmean: array<f32>;
@group(0) @binding(4) var<storage, read> rvar: array<f32>;
@group(0) @binding(5) var<storage, read_write> st: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.channels) { return; }
  let invstd = 1.0 / sqrt(rvar[c] + p.eps);
  st[2u * c] = vec4<f32>(0.0, rmean[c], invstd, 0.0);
  st[2u * c + 1u] = vec4<f32>(gamma[c] * invstd, beta[c], 0.0, 0.0);
}
//#endif

//#if ELEMENTWISE
// Elementwise passes (normalize, grad_input): UNITS consecutive units per invocation, tracking
// the channel; tab[2c], tab[2c+1] are the channel's coefficients (st for normalize, co for
// grad_input), unit() is the pass's body.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i0 = (gid.x + gid.y * nw.x * 64u) * UNITS;
  if (i0 >= p.total_units) { return; }
  let i1 = min(i0 + UNITS, p.total_units);
  var h = i0 % p.plane_units;
  var c = (i0 / p.plane_units) % p.channels;
  var a = tab[2u * c];
  var b = tab[2u * c + 1u];
  for (var k = i0; k < i1; k = k + 1u) {
    unit(k, a, b);
    h = h + 1u;
    if (h == p.plane_units) {
      h = 0u;
      c = c + 1u;
      if (c == p.channels) { c = 0u; }
      a = tab[2u * c];
      b = tab[2u * c + 1u];
    }
  }
}
//#endif

//#if NORMALIZE
@group(0) @binding(1) var<storage, read> x: array<VT>;
@group(0) @binding(2) var<storage, read> tab: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<VT>;
fn unit(k: u32, a: vec4<f32>, b: vec4<f32>) {
  let z = ((x[k] - VT(a.x)) - VT(a.y)) * VT(b.x) + VT(b.y);
  y[k] = ACT;
}
//#endif

//#if GRAD_PARTIAL
@group(0) @binding(1) var<storage, read> g: array<VT>;
@group(0) @binding(2) var<storage, read> x: array<VT>;
@group(0) @binding(3) var<storage, read> st: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> part: array<vec2<f32>>;
struct Pair { sg: VT, sgx: VT, };
// (gz, gz * xhat) of the walk's next unit, zero when !ok
fn contrib(w: ptr<function, Walk>, c: u32, a: vec4<f32>, ok: bool) -> Pair {
  if (!ok) { return Pair(VT(0.0), VT(0.0)); }
  let k = addr((*w).n, c, (*w).h);
  walk_next(w);
  let gz = GZ;
  let xh = ((x[k] - VT(a.x)) - VT(a.y)) * VT(a.z);
  return Pair(gz, gz * xh);
}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let c = wid.y;
  let a = st[2u * c];
  let lr = lane_range(r, lid);
  var w = walk_start(lr.x);
  var sg = VT(0.0);
  var sgx = VT(0.0);
  for (var j = 0u; j < lr.y; j = j + 4u) {
    let cnt = min(4u, lr.y - j);
    let q0 = contrib(&w, c, a, true);
    let q1 = contrib(&w, c, a, cnt > 1u);
    let q2 = contrib(&w, c, a, cnt > 2u);
    let q3 = contrib(&w, c, a, cnt > 3u);
    sg = sg + ((q0.sg + q1.sg) + (q2.sg + q3.sg));
    sgx = sgx + ((q0.sgx + q1.sgx) + (q2.sgx + q3.sgx));
  }
  part[(c * p.chunks + r) * LANES + lid] = vec2<f32>(hsum(sg), hsum(sgx));
}
//#endif

//#if GRAD_MERGE
@group(0) @binding(1) var<storage, read> part: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> st: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> co: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;
// Lane `lane` of `lanes` sums the channel's partials lane, lane + lanes, ...: (Sg, Sgx).
fn merge_partials(c: u32, lane: u32, lanes: u32) -> vec2<f32> {
  let np = p.chunks * LANES;
  var q = vec2<f32>(0.0);
  for (var j = lane; j < np; j = j + lanes) { q = q + part[c * np + j]; }
  return q;
}
fn add2(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> { return a + b; }
fn grad_finish(c: u32, q: vec2<f32>) {
  let sg = q.x;
  let sgx = q.y;
  dgamma[c] = sgx;
  dbeta[c] = sg;
  let a = st[2u * c];
  let pc = gamma[c] * a.z;
  var qc = -pc * sgx / p.channel_values;
  var rc = -pc * sg / p.channel_values;
  if (p.eval_grad != 0u) { qc = 0.0; rc = 0.0; }
  co[2u * c] = a;
  co[2u * c + 1u] = vec4<f32>(pc, qc, rc, 0.0);
}
//#endif

//#if GRAD_INPUT
@group(0) @binding(1) var<storage, read> g: array<VT>;
@group(0) @binding(2) var<storage, read> x: array<VT>;
@group(0) @binding(3) var<storage, read> tab: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dx: array<VT>;
fn unit(k: u32, a: vec4<f32>, b: vec4<f32>) {
  let gz = GZ;
  let xh = ((x[k] - VT(a.x)) - VT(a.y)) * VT(a.z);
  // eval (q = r = 0): PyTorch's dx = p*gz has no x-hat term, so a NaN x-hat must not leak in
  dx[k] = select(VT(b.x) * gz + VT(b.y) * xh + VT(b.z), VT(b.x) * gz, is_nan(xh) & (VT(b.y) == VT(0.0)) & (VT(b.z) == VT(0.0)));
}
//#endif

//#if ELEMENTWISE_X
// Elementwise passes when H*W % 4 != 0 but N*C*H*W % 4 == 0 and H*W >= 4 (instantiated with V4):
// vec4 units over the flat tensor; a unit may straddle two channels, so each component takes
// the coefficients of the current or the next channel. Here p.plane_units is in values,
// p.total_units in vec4 units.
struct Coef { a0: VT, a1: VT, a2: VT, b0: VT, b1: VT, b2: VT, };
fn coef_of(c: u32) -> Coef {
  let a = tab[2u * c];
  let b = tab[2u * c + 1u];
  return Coef(VT(a.x), VT(a.y), VT(a.z), VT(b.x), VT(b.y), VT(b.z));
}
fn mix(cur: Coef, nxt: Coef, m: vec4<bool>) -> Coef {
  return Coef(select(nxt.a0, cur.a0, m), select(nxt.a1, cur.a1, m), select(nxt.a2, cur.a2, m),
              select(nxt.b0, cur.b0, m), select(nxt.b1, cur.b1, m), select(nxt.b2, cur.b2, m));
}
fn next_channel(c: u32) -> u32 { return select(c + 1u, 0u, c + 1u == p.channels); }
// UNITS consecutive vec4 units per invocation; unit() is the pass's body
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let u0 = (gid.x + gid.y * nw.x * 64u) * UNITS;
  if (u0 >= p.total_units) { return; }
  let u1 = min(u0 + UNITS, p.total_units);
  var h = (4u * u0) % p.plane_units;
  var c = ((4u * u0) / p.plane_units) % p.channels;
  var cur = coef_of(c);
  var nxt = coef_of(next_channel(c));
  for (var k = u0; k < u1; k = k + 1u) {
    unit(k, mix(cur, nxt, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.plane_units - h)));
    h = h + 4u;
    if (h >= p.plane_units) {
      h = h - p.plane_units;
      c = next_channel(c);
      cur = nxt;
      nxt = coef_of(next_channel(c));
    }
  }
}
//#endif

//#if NORMALIZE_X
@group(0) @binding(1) var<storage, read> x: array<VT>;
@group(0) @binding(2) var<storage, read> tab: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<VT>;
fn unit(u: u32, q: Coef) {
  let z = ((x[u] - q.a0) - q.a1) * q.b0 + q.b1;
  y[u] = ACT;
}
//#endif

//#if GRAD_INPUT_X
@group(0) @binding(1) var<storage, read> g: array<VT>;
@group(0) @binding(2) var<storage, read> x: array<VT>;
@group(0) @binding(3) var<storage, read> tab: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dx: array<VT>;
fn unit(k: u32, q: Coef) {
  let gz = GZ;
  let xh = ((x[k] - q.a0) - q.a1) * q.a2;
  // eval (q = r = 0): PyTorch's dx = p*gz has no x-hat term, so a NaN x-hat must not leak in
  dx[k] = select(q.b0 * gz + q.b1 * xh + q.b2, q.b0 * gz, is_nan(xh) & ((q.b1 == VT(0.0)) & (q.b2 == VT(0.0))));
}
//#endif

//#if SAVED_Y
@group(0) @binding(5) var<storage, read> ysaved: array<VT>;
//#endif
