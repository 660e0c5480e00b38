// Explicit im2col lowering of a dense (groups = 1) convolution to the engine's matmul
// (the 'sg' subgroup matmul on lavapipe), f32, NCHW / OIHW. K = Cin·KH·KW, k = (ci, ky, kx);
// P = OH·OW, p = (oy, ox). Three entry blocks, one pipeline each, all geometry in uniforms:
//
// IM2COL: col[n, k, p] = X[n, ci, oy·sh − ph + ky, ox·sw − pw + kx] (0 outside the input),
//   written in one of two layouts (P.mode): 0 = [N, K, P] (p fastest: the forward's B
//   operand, W·col[n]); 1 = [N·P, K] (k fastest: the weight gradient's B operand,
//   dYᵀ·colᵀ reducing over N·P). With KH = KW = 1, no padding, stride 1 and Cin = C,
//   mode 1 is the per-image transpose [N, C, P] → [N·P, C] (used for dY).
//   Per-element index arithmetic (u32 divisions by uniforms) is what costs on lavapipe, so an
//   invocation owns a run of outputs: mode 0 one output row (n, k, oy), OW values; mode 1 one
//   (n, p, ci), its KH·KW consecutive values. P.total = the number of runs.
//   Bindings: 0 P, 1 X, 2 col. Dispatch: workgroup 64, grid(P.total, 64).
//
// COL2IM: dX[n, ci, iy, ix] = Σ_{ky, kx: (iy + ph − ky) / sh, (ix + pw − kx) / sw integral
//   and in range} dcol[n, (ci, ky, kx), (oy, ox)], dcol laid out [N, K, P] (a gather: no
//   atomics). An invocation owns one input row (n, ci, iy), W values (P.total = N·Cin·H).
//   Bindings: 0 P, 1 dcol, 2 dX. Dispatch: workgroup 64, grid(P.total, 64).
//
// FLIPW: Wfᵀ[(co, ky, kx), ci] = W[co, ci, KH−1−ky, KW−1−kx] (W [Cout, Cin, KH, KW]): the
//   flipped, channel-swapped kernel that turns a stride-1 input gradient into a forward
//   convolution of dY (padding KH−1−ph), already in the [K, M] layout the 'sg' matmul reads.
//   P.mode = 1 writes it as OIHW instead, Wf[ci, co, ky, kx], for the direct forward kernel.
//   Bindings: 0 P, 1 W, 2 Wf. Dispatch: workgroup 64, grid(P.total = Cout·Cin·KH·KW, 64).
//
// BIASACT: Y[n, c, p] = act(Y[n, c, p] + b[c]) in place (the conv bias runs along rows of
//   the matmul's output, its fused bias along columns; without a bias the ReLU runs in the
//   matmul's epilogue and this pass is skipped). P.mode = 1: ReLU. An invocation owns one
//   plane (n, c), P values (P.total = N·Cout).
//   Bindings: 0 P, 1 b, 2 Y. Dispatch: workgroup 64, grid(P.total, 64).

struct P {
  n: u32, cin: u32, h: u32, w: u32,
  oh: u32, ow: u32, kh: u32, kw: u32,
  sh: u32, sw: u32, ph: u32, pw: u32,
  mode: u32, total: u32, cout: u32, pad0: u32,
};

@group(0) @binding(0) var<uniform> p: P;

//#if IM2COL
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> col: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.total) { return; }
  let kk = p.kh * p.kw;
  let K = p.cin * kk;
  if (p.mode == 0u) {
    // one output row: (n, k, oy), ox = 0 .. OW-1
    let oy = i % p.oh;
    let r = i / p.oh;
    let k = r % K;
    let n = r / K;
    let ci = k / kk;
    let t = k - ci * kk;
    let ky = t / p.kw;
    let kx = t - ky * p.kw;
    let iy = i32(oy * p.sh + ky) - i32(p.ph);
    let o = i * p.ow;
    if (iy < 0 || iy >= i32(p.h)) {
      for (var ox = 0u; ox < p.ow; ox++) { col[o + ox] = 0.0; }
      return;
    }
    let row = ((n * p.cin + ci) * p.h + u32(iy)) * p.w;
    for (var ox = 0u; ox < p.ow; ox++) {
      let ix = i32(ox * p.sw + kx) - i32(p.pw);
      var v = 0.0;
      if (ix >= 0 && ix < i32(p.w)) { v = X[row + u32(ix)]; }
      col[o + ox] = v;
    }
  } else {
    // one (n, q, ci): its KH·KW taps, consecutive in the [N·P, K] layout
    let PP = p.oh * p.ow;
    let ci = i % p.cin;
    let r = i / p.cin;
    let q = r % PP;
    let n = r / PP;
    let oy = q / p.ow;
    let ox = q - oy * p.ow;
    let o = r * K + ci * kk;
    let plane = (n * p.cin + ci) * p.h;
    let iy0 = i32(oy * p.sh) - i32(p.ph);
    let ix0 = i32(ox * p.sw) - i32(p.pw);
    for (var ky = 0u; ky < p.kh; ky++) {
      let iy = iy0 + i32(ky);
      let inY = iy >= 0 && iy < i32(p.h);
      for (var kx = 0u; kx < p.kw; kx++) {
        let ix = ix0 + i32(kx);
        var v = 0.0;
        if (inY && ix >= 0 && ix < i32(p.w)) { v = X[(plane + u32(iy)) * p.w + u32(ix)]; }
        col[o + ky * p.kw + kx] = v;
      }
    }
  }
}
//#endif

//#if COL2IM
@group(0) @binding(1) var<storage, read> dcol: array<f32>;
@group(0) @binding(2) var<storage, read_write> dX: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.total) { return; }
  // one input row (n, ci, iy)
  let iy = i % p.h;
  let r = i / p.h;
  let ci = r % p.cin;
  let n = r / p.cin;
  let kk = p.kh * p.kw;
  let PP = p.oh * p.ow;
  let base = (n * p.cin * kk + ci * kk) * PP;
  let o = i * p.w;
  for (var ix = 0u; ix < p.w; ix++) { dX[o + ix] = 0.0; }
  for (var ky = 0u; ky < p.kh; ky++) {
    let ty = i32(iy + p.ph) - i32(ky);
    if (ty < 0 || (u32(ty) % p.sh) != 0u) { continue; }
    let oy = u32(ty) / p.sh;
    if (oy >= p.oh) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let src = base + (ky * p.kw + kx) * PP + oy * p.ow;
      for (var ix = 0u; ix < p.w; ix++) {
        let tx = i32(ix + p.pw) - i32(kx);
        if (tx < 0 || (u32(tx) % p.sw) != 0u) { continue; }
        let ox = u32(tx) / p.sw;
        if (ox >= p.ow) { continue; }
        dX[o + ix] += dcol[src + ox];
      }
    }
  }
}
//#endif

//#if FLIPW
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> Wf: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.total) { return; }
  // i = ((co·KH + ky)·KW + kx)·Cin + ci
  let ci = i % p.cin;
  var r = i / p.cin;
  let kx = r % p.kw;
  r = r / p.kw;
  let ky = r % p.kh;
  let co = r / p.kh;
  let v = W[((co * p.cin + ci) * p.kh + (p.kh - 1u - ky)) * p.kw + (p.kw - 1u - kx)];
  if (p.mode == 0u) { Wf[i] = v; } else { Wf[((ci * p.cout + co) * p.kh + ky) * p.kw + kx] = v; }
}
//#endif

//#if BIASACT
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.total) { return; }
  let PP = p.oh * p.ow;
  let bias = b[i % p.cout];
  let relu = p.mode == 1u;
  let o = i * PP;
  for (var q = 0u; q < PP; q++) {
    var v = Y[o + q] + bias;
    if (relu) { v = max(v, 0.0); }
    Y[o + q] = v;
  }
}
//#endif
