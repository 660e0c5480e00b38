// Fused cross-entropy and distillation losses, the multi-warm label, and the helpers every
// fused loss shares (batch reduction with label validation, backward scaling).
// Rows are independent: the row kernels run one invocation per row walking its N entries
// (no barriers; what lavapipe runs fast), workgroup 64, grid folded into (x, y):
// row = gid.x + gid.y * nw.x * 64. Every log-softmax is z - max - log sum exp.
// Each block has its own uniform parameter block (binding 0, inserted at //#params), declared
// next to its launcher: CeParams (src/losses/ce.ts), KdParams (src/losses/kd.ts), WarmParams
// (src/losses/warm.ts), ScaleParams, FinishParams, CheckParams (src/losses/common.ts).
//
// CE     rowLoss[r] = -sum_n s_n log p_n, s = (1 - eps) y + eps / N, p = softmax(z)
//        dz[r, n] = (p_n - s_n) * scale                       (override GRAD = 0: skipped)
//        params CeParams { rows (B), classes (N), eps, scale }
//        bindings: 0 P, 1 z [B, N], 2 labels [B] i32, 3 dz [B, N], 4 rowLoss [B]
//        A label outside [0, N) is clamped (FINISH reports it and makes the mean NaN).
//        CE and KD come with ROW (their entry point and the bindings 1 z, 3 dz, 4 rowLoss
//        and override GRAD they share, reading p.rows and p.classes; each gives lossRow)
//        and a width block W1 / W2 / W4 (f32 / vec2 / vec4 loads, N % W == 0), and take two
//        passes: log-sum-exp shifted by the row's first entry in one pass (a row whose
//        spread exceeds 64 takes one more, shifted by its max), then dz.
// KD     pt = softmax(zb / T), ps = softmax(z / T):
//        rowLoss[r] = T^2 KL(pt || ps) = T^2 sum pt (log pt - log ps)
//        dz[r, n] = T (ps_n - pt_n) * scale
//        params KdParams { rows (B), classes (N), temperature (T), scale }
//        bindings: 0 P, 1 z [B, N], 2 zb [B, N], 3 dz [B, N], 4 rowLoss [B]
// WARM   multi-warm label: l'_n = [zb_n > 0] (positive-logit rule) or
//        [softmax(zb/T)_n > 1/N] (softmax_rule), l'' = max(l', y), out[r, :] = l'' / sum l''
//        (bad label: rule entries only; a row with none is all zero)
//        params WarmParams { rows (B), classes (N), softmax_rule, temperature (T) }
//        bindings: 0 P, 1 zb [B, N], 2 labels [B] i32, 3 out [B, N]
// SCALE  backward of a fused loss, in place: saved[i] *= g[0] over p.n elements of type SV
//        (vec4<f32> when the size is a multiple of 4, else f32); one element per
//        invocation, workgroup 256, grid folded.       params ScaleParams { n }
//        bindings: 0 P, 1 saved (rw), 2 g [1]
// FINISH atomic-free batch sum, one level of a two-level reduction: out[k] = scale *
//        sum of src[k*chunk .. (k+1)*chunk) for k < p.outputs (one invocation each,
//        workgroup 64), over p.inputs values in all. With p.label_count > 0 (last level
//        only, one output), also checks labels[0 .. label_count) against [0, classes): on
//        the first bad one it writes NaN as the loss and, when status[0] == 0,
//        status = [1, row, label, classes, opcode] for the host to read back.
//        params FinishParams { outputs, inputs, chunk, label_count, classes, opcode, scale }
//        bindings: 0 P, 1 src, 2 out, 3 labels i32, 4 status i32 [8]
// CHECK  label validation alone (composed losses): the FINISH check without a sum.
//        One invocation.     params CheckParams { label_count, classes, opcode }
//        bindings: 0 P, 1 labels i32, 2 status i32 [8]
//        FINISH and CHECK come with LABELS (the check, labelsValid).

//#params

fn rowId(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * 64u; }

// Vector width of the CE / KD row kernels (N % W == 0): one of these blocks goes with them.
// V, VU, W, first, hsum, hmax, idx, elem: kernels/vec_width.wgsl (block W1/W2/W4, appended by rowLossKernels).
//#if ROW
// The CE / KD entry point and the bindings they share; their block's lossRow(r, base, nv)
// writes rowLoss[r] and (GRAD == 1) dz for row r, whose nv = N / W entries start at z[base].
@group(0) @binding(1) var<storage, read> z: array<V>;
@group(0) @binding(3) var<storage, read_write> dz: array<V>;
@group(0) @binding(4) var<storage, read_write> rowLoss: array<f32>;
override GRAD: u32 = 1u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = rowId(gid, nw);
  if (r >= p.rows) { return; }
  let nv = p.classes / W;
  lossRow(r, r * nv, nv);
}
//#endif

//#if CE
@group(0) @binding(2) var<storage, read> labels: array<i32>;
fn lossRow(r: u32, base: u32, nv: u32) {
  let n = p.classes;
  let t = min(u32(max(labels[r], 0)), n - 1u);   // bad labels: see FINISH
  // pass 1: log-sum-exp shifted by the first entry (by the max if the spread exceeds 64)
  let z0 = first(z[base]);
  var m = V(z0);
  var s = V(0.0);
  var sd = V(0.0);
  for (var j = 0u; j < nv; j++) {
    let d = z[base + j] - z0;
    m = max(m, z[base + j]);
    s += exp(d);
    sd += d;
  }
  var lz = z0 + log(hsum(s));
  let ms = hmax(m);
  if (ms - z0 > 64.0) {
    s = V(0.0);
    for (var j = 0u; j < nv; j++) { s += exp(z[base + j] - ms); }
    lz = ms + log(hsum(s));
  }
  let en = p.eps / f32(n);
  // -(1 - eps) log p_t - eps/N sum log p,   sum log p = sum (z - z0) - N (lz - z0)
  let lpt = elem(z[base + t / W], t % W) - lz;
  rowLoss[r] = -(1.0 - p.eps) * lpt - en * (hsum(sd) - f32(n) * (lz - z0));
  if (GRAD == 1u) {
    // pass 2: dz = (p - s) * scale
    for (var j = 0u; j < nv; j++) {
      let sj = select(V(en), V(1.0 - p.eps + en), idx(j) == VU(t));
      dz[base + j] = (exp(z[base + j] - lz) - sj) * p.scale;
    }
  }
}
//#endif

//#if KD
@group(0) @binding(2) var<storage, read> zb: array<V>;
fn lossRow(r: u32, base: u32, nv: u32) {
  let it = 1.0 / p.temperature;
  // pass 1: both log-sum-exps of x/T shifted by the first entries, and
  // acc = sum eb (dbj - dzj) with dzj = (z - z0)/T, dbj = (zb - b0)/T, eb = exp(dbj)
  var z0 = first(z[base]);
  var b0 = first(zb[base]);
  var mz = V(z0);
  var mb = V(b0);
  var sz = V(0.0);
  var sb = V(0.0);
  var acc = V(0.0);
  for (var j = 0u; j < nv; j++) {
    let zj = z[base + j];
    let bj = zb[base + j];
    mz = max(mz, zj);
    mb = max(mb, bj);
    let dzj = (zj - z0) * it;
    let dbj = (bj - b0) * it;
    let eb = exp(dbj);
    sz += exp(dzj);
    sb += eb;
    acc += eb * (dbj - dzj);
  }
  if ((hmax(mz) - z0) * it > 64.0 || (hmax(mb) - b0) * it > 64.0) {
    // wide spread: the same sums shifted by the maxima
    z0 = hmax(mz);
    b0 = hmax(mb);
    sz = V(0.0); sb = V(0.0); acc = V(0.0);
    for (var j = 0u; j < nv; j++) {
      let dzj = (z[base + j] - z0) * it;
      let dbj = (zb[base + j] - b0) * it;
      let eb = exp(dbj);
      sz += exp(dzj);
      sb += eb;
      acc += eb * (dbj - dzj);
    }
  }
  // KL = sum pt (dbj - log sb - dzj + log sz)
  let lsz = log(hsum(sz));
  let lsb = log(hsum(sb));
  rowLoss[r] = p.temperature * p.temperature * (hsum(acc) / hsum(sb) - lsb + lsz);
  if (GRAD == 1u) {
    // pass 2: dz = T (ps - pt) * scale
    let k = p.temperature * p.scale;
    for (var j = 0u; j < nv; j++) {
      let ps = exp((z[base + j] - z0) * it - lsz);
      let pt = exp((zb[base + j] - b0) * it - lsb);
      dz[base + j] = k * (ps - pt);
    }
  }
}
//#endif

//#if WARM
@group(0) @binding(1) var<storage, read> zb: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> outw: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = rowId(gid, nw);
  if (r >= p.rows) { return; }
  let n = p.classes;
  let base = r * n;
  let lab = labels[r];
  let it = 1.0 / p.temperature;
  var mb = zb[base];
  var sbt = 0.0;
  if (p.softmax_rule == 1u) {
    for (var j = 1u; j < n; j++) { mb = max(mb, zb[base + j]); }
    for (var j = 0u; j < n; j++) { sbt += exp((zb[base + j] - mb) * it); }
  }
  let cut = log(sbt) - log(f32(n));
  var cnt = 0.0;
  for (var j = 0u; j < n; j++) {
    let w = select(zb[base + j] > 0.0, (zb[base + j] - mb) * it > cut, p.softmax_rule == 1u) || i32(j) == lab;
    cnt += select(0.0, 1.0, w);
  }
  let ic = select(0.0, 1.0 / cnt, cnt > 0.0);
  for (var j = 0u; j < n; j++) {
    let w = select(zb[base + j] > 0.0, (zb[base + j] - mb) * it > cut, p.softmax_rule == 1u) || i32(j) == lab;
    outw[base + j] = select(0.0, ic, w);
  }
}
//#endif

//#if SCALE
@group(0) @binding(1) var<storage, read_write> saved: array<SV>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n) { return; }
  saved[i] = saved[i] * g[0];
}
//#endif

//#if FINISH
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> outs: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<i32>;
@group(0) @binding(4) var<storage, read_write> status: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let k = rowId(gid, nw);
  if (k >= p.outputs) { return; }
  let i0 = k * p.chunk;
  let i1 = min(i0 + p.chunk, p.inputs);
  var s = 0.0;
  for (var i = i0; i < i1; i++) { s += src[i]; }
  s *= p.scale;
  if (!labelsValid()) {
    s = bitcast<f32>(0x7fc00000u | (p.outputs & 0u));   // NaN (a runtime value: a constant NaN is rejected)
  }
  outs[k] = s;
}
//#endif

//#if CHECK
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> status: array<i32>;
@compute @workgroup_size(1)
fn main() {
  _ = labelsValid();
}
//#endif

//#if LABELS
// With FINISH and CHECK: are labels[0 .. p.label_count) in [0, N) (N = p.classes)? On the
// first bad one, when status[0] == 0, status = [1, row, label, N, p.opcode]; returns false.
fn labelsValid() -> bool {
  let nc = i32(p.classes);
  for (var i = 0u; i < p.label_count; i++) {
    let v = labels[i];
    if (v < 0 || v >= nc) {
      if (status[0] == 0) {
        status[0] = 1; status[1] = i32(i); status[2] = v; status[3] = nc; status[4] = i32(p.opcode);
      }
      return false;
    }
  }
  return true;
}
//#endif
