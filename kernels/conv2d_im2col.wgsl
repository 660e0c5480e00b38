// Explicit im2col lowering of a dense (groups = 1) convolution to the engine's matmul
// (the 'sg' subgroup matmul on lavapipe), NCHW / OIHW; IM2COL and FLIPW copy ELEM (f32, or f16 for
// mixed precision: src/ops/precision.ts), COL2IM and BIASACT are f32. K = Cin·KH·KW, k = (ci, ky, kx);
// P = OH·OW, p = (oy, ox). Four entry blocks, one pipeline each, all geometry in uniforms
// (one parameter block per entry, declared in src/ops/conv/lowering.ts; //#params):
//
// IM2COL (Im2colParams { cin, h, w, oh, ow, kh, kw, sh, sw, ph, pw, pixel_rows, runs }):
//   col[n, k, p] = X[n, ci, oy·sh − ph + ky, ox·sw − pw + kx] (0 outside the input), written
//   in one of two layouts: p.pixel_rows = 0: [N, K, P] (p fastest: the forward's B operand,
//   W·col[n]); p.pixel_rows = 1: [N·P, K] (one row of K per output pixel, k fastest: the weight
//   gradient's B operand, dYᵀ·colᵀ reducing over N·P).
//   Per-element index arithmetic (u32 divisions by uniforms) is what costs on lavapipe, so an
//   invocation owns a run of outputs: [N, K, P] one output row (n, k, oy), OW values;
//   [N·P, K] one (n, p, ci), its KH·KW consecutive values. p.runs = the number of runs.
//   Bindings: 0 P, 1 X, 2 col. Dispatch: workgroup 64, grid(p.runs, 64).
//
// COL2IM (Col2imParams { cin, h, w, oh, ow, kh, kw, sh, sw, ph, pw, input_rows }):
//   dX[n, ci, iy, ix] = Σ_{ky, kx: (iy + ph − ky) / sh, (ix + pw − kx) / sw integral and in
//   range} dcol[n, (ci, ky, kx), (oy, ox)], dcol laid out [N, K, P] (a gather: no atomics).
//   An invocation owns one input row (n, ci, iy), W values (p.input_rows = N·Cin·H).
//   Bindings: 0 P, 1 dcol, 2 dX. Dispatch: workgroup 64, grid(p.input_rows, 64).
//
// FLIPW (FlipWeightParams { cin, cout, kh, kw, oihw, elements }):
//   Wfᵀ[(co, ky, kx), ci] = W[co, ci, KH−1−ky, KW−1−kx] (W [Cout, Cin, KH, KW]): the flipped,
//   channel-swapped kernel that turns a stride-1 input gradient into a forward convolution of
//   dY (padding KH−1−ph), already in the [K, M] layout the 'sg' matmul reads. p.oihw = 1
//   writes it as OIHW instead, Wf[ci, co, ky, kx], for the direct forward kernel.
//   Bindings: 0 P, 1 W, 2 Wf. Dispatch: workgroup 64, grid(p.elements = Cout·Cin·KH·KW, 64).
//
// BIASACT (BiasActParams { planes, plane_size, channels, act, has_bias }):
//   Y[n, c, p] = act(Y[n, c, p] + b[c]) in place, the bias only when p.has_bias = 1 (the conv
//   bias runs along rows of the matmul's output, its fused bias along columns; an activation
//   the matmul's epilogue applies without a bias skips this pass). p.act: ACT_CODE, applied by
//   apply_act (APPLY_ACT_FN is replaced by ACT_WGSL). An invocation owns one plane (n, c),
//   p.plane_size = P values (p.planes = N·Cout, p.channels = Cout).
//   Bindings: 0 P, 1 b (the device's placeholder when has_bias = 0: never read), 2 Y.
//   Dispatch: workgroup 64, grid(p.planes, 64).

//#params

//#if IM2COL
@group(0) @binding(1) var<storage, read> X: array<ELEM>;
@group(0) @binding(2) var<storage, read_write> col: array<ELEM>;   // a copy: ELEM in, ELEM out

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.runs) { return; }
  let kk = p.kh * p.kw;
  let K = p.cin * kk;
  if (p.pixel_rows == 0u) {
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
      var v = ELEM(0.0);
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
        var v = ELEM(0.0);
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
  if (i >= p.input_rows) { return; }
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
@group(0) @binding(1) var<storage, read> W: array<ELEM>;
@group(0) @binding(2) var<storage, read_write> Wf: array<ELEM>;    // a copy: ELEM in, ELEM out

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.elements) { return; }
  // i = ((co·KH + ky)·KW + kx)·Cin + ci
  let ci = i % p.cin;
  var r = i / p.cin;
  let kx = r % p.kw;
  r = r / p.kw;
  let ky = r % p.kh;
  let co = r / p.kh;
  let v = W[((co * p.cin + ci) * p.kh + (p.kh - 1u - ky)) * p.kw + (p.kw - 1u - kx)];
  if (p.oihw == 0u) { Wf[i] = v; } else { Wf[((ci * p.cout + co) * p.kh + ky) * p.kw + kx] = v; }
}
//#endif

//#if BIASACT
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
APPLY_ACT_FN

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.planes) { return; }
  let PP = p.plane_size;
  let add_bias = p.has_bias == 1u;
  var bias = 0.0;
  if (add_bias) { bias = b[i % p.channels]; }
  let o = i * PP;
  for (var q = 0u; q < PP; q++) {
    var v = Y[o + q];
    if (add_bias) { v = v + bias; }
    Y[o + q] = apply_act(v, p.act);
  }
}
//#endif
