// Depthwise convolution (groups = Cin = Cout, one KS×KS filter per channel), NCHW,
// Operand bindings are array<ELEM> (f32, or f16 for mixed precision: src/ops/precision.ts); every
// load converts to f32, so the accumulation and the output are f32 either way.
// with the kernel size KS, the stride ST and the columns per invocation BP compiled in
// (substituted per instantiation, see src/ops/conv/direct.ts), so every tap loop unrolls and the
// input row segment an invocation needs stays in registers. Padding is a runtime value.
//
// FWD: Y[n, c, oy, ox] = act( bias[c] + Σ_{ky, kx} W[c, 0, ky, kx] · X[n, c, oy·ST − ph + ky, ox·ST − pw + kx] )
//   Each invocation computes BP consecutive outputs of one row; per ky it loads the
//   (BP − 1)·ST + KS input values the BP outputs share once, and its channel's KS² weights
//   once. Invocations run over (n, c, oy, column block) flattened: one workgroup per
//   plane would mean thousands of tiny workgroups, whose fixed cost dominates on lavapipe.
//   Bindings: 0 P, 1 X, 2 W, 3 Y, 4 bias (the device's placeholder when p.has_bias = 0: never
//   read). p.act (ACT_CODE, applied by apply_act: APPLY_ACT_FN is replaced by ACT_WGSL) and
//   p.has_bias select the epilogue.
//   Dispatch: workgroup 64, grid(N·C·OH·owb, 64) (owb = ceil(OW / BP)).
//
// WGRAD: dW[c, 0, ky, kx] = Σ_{n, oy, ox} dY[n, c, oy, ox] · X[n, c, oy·ST − ph + ky, ox·ST − pw + kx]
//   One workgroup per (split s, channel c); its 64 invocations stride over the split's
//   (n, oy, column-block) items, each accumulating all KS² taps with a shared row segment,
//   then one barrier and a 64-way sum per tap in workgroup memory. Writes O[s·C·KS² + c·KS² + tap]
//   (summed over splits by conv2d_wgrad.wgsl's REDUCE when S > 1).
//   Bindings: 0 P, 1 dY, 2 X, 3 O. Dispatch: (S, C, 1).
// (The input gradient of a depthwise convolution runs conv2d_dgrad.wgsl with one channel
// per invocation: see src/ops/conv/direct.ts.)
//
// Uniforms (//#params), declared in src/ops/conv/direct.ts:
//   FWD   DepthwiseForwardParams { n, c, h, w, oh, ow, ph, pw, owb, act, has_bias }
//   WGRAD DepthwiseWeightGradParams { n, c, h, w, oh, ow, ph, pw, owb, splits }

//#params

const KS: u32 = KS_VALUE;
const ST: u32 = ST_VALUE;
const BP: u32 = BP_VALUE;
const SEG: u32 = (BP - 1u) * ST + KS;
const TAPS: u32 = KS * KS;

// The SEG input values X[xrow + ix0 ..] the BP outputs of a row block share for one kernel row
// (zero outside 0 .. wi-1). X is each entry point's own binding.
fn row_segment(xrow: u32, ix0: i32, wi: i32) -> array<f32, SEG> {
  var seg: array<f32, SEG>;
  for (var e = 0u; e < SEG; e = e + 1u) {
    let ix = ix0 + i32(e);
    let v = f32(X[xrow + u32(clamp(ix, 0, wi - 1))]);
    seg[e] = select(0.0, v, ix >= 0 && ix < wi);
  }
  return seg;
}

//#if FWD
@group(0) @binding(1) var<storage, read> X: array<ELEM>;
@group(0) @binding(2) var<storage, read> Wt: array<ELEM>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;   // the placeholder when has_bias = 0 (unread)
APPLY_ACT_FN
//#endif

//#if FWD
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let item = gid.x + gid.y * nw.x * 64u;
  if (item >= p.n * p.c * p.oh * p.owb) { return; }
  let ox0 = (item % p.owb) * BP;
  let t = item / p.owb;
  let oy = t % p.oh;
  let plane = t / p.oh;
  let c = plane % p.c;
  var wv: array<f32, TAPS>;
  for (var t = 0u; t < TAPS; t = t + 1u) { wv[t] = f32(Wt[c * TAPS + t]); }
  let hi = i32(p.h);
  let wi = i32(p.w);
  let xplane = plane * p.h * p.w;
  let iy0 = i32(oy * ST) - i32(p.ph);
  let ix0 = i32(ox0 * ST) - i32(p.pw);
  var acc: array<f32, BP>;
  for (var ky = 0u; ky < KS; ky = ky + 1u) {
    let iy = iy0 + i32(ky);
    if (iy < 0 || iy >= hi) { continue; }
    let xrow = xplane + u32(iy) * p.w;
    let seg = row_segment(xrow, ix0, wi);
    for (var kx = 0u; kx < KS; kx = kx + 1u) {
      let wk = wv[ky * KS + kx];
      for (var j = 0u; j < BP; j = j + 1u) {
        acc[j] = acc[j] + wk * seg[j * ST + kx];
      }
    }
  }
  var b = 0.0;
  if (p.has_bias == 1u) { b = bias[c]; }
  let yrow = (plane * p.oh + oy) * p.ow;
  for (var j = 0u; j < BP; j = j + 1u) {
    if (ox0 + j < p.ow) {
      Y[yrow + ox0 + j] = apply_act(acc[j] + b, p.act);
    }
  }
}
//#endif

//#if WGRAD
@group(0) @binding(1) var<storage, read> dY: array<ELEM>;
@group(0) @binding(2) var<storage, read> X: array<ELEM>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
var<workgroup> red: array<array<f32, 64>, TAPS>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let s = wid.x;
  let c = wid.y;
  let items = p.n * p.oh * p.owb;
  let i0 = (items * s) / p.splits;
  let i1 = (items * (s + 1u)) / p.splits;
  let hi = i32(p.h);
  let wi = i32(p.w);
  var acc: array<f32, TAPS>;
  for (var it = i0 + lid.x; it < i1; it = it + 64u) {
    let xb = it % p.owb;
    let row = it / p.owb;
    let oy = row % p.oh;
    let n = row / p.oh;
    let plane = n * p.c + c;
    let ox0 = xb * BP;
    var gv: array<f32, BP>;
    let yrow = (plane * p.oh + oy) * p.ow;
    for (var j = 0u; j < BP; j = j + 1u) {
      let ox = ox0 + j;
      gv[j] = select(0.0, f32(dY[yrow + min(ox, p.ow - 1u)]), ox < p.ow);
    }
    let xplane = plane * p.h * p.w;
    let iy0 = i32(oy * ST) - i32(p.ph);
    let ix0 = i32(ox0 * ST) - i32(p.pw);
    for (var ky = 0u; ky < KS; ky = ky + 1u) {
      let iy = iy0 + i32(ky);
      if (iy < 0 || iy >= hi) { continue; }
      let xrow = xplane + u32(iy) * p.w;
      let seg = row_segment(xrow, ix0, wi);
      for (var kx = 0u; kx < KS; kx = kx + 1u) {
        var a = acc[ky * KS + kx];
        for (var j = 0u; j < BP; j = j + 1u) { a = a + gv[j] * seg[j * ST + kx]; }
        acc[ky * KS + kx] = a;
      }
    }
  }
  for (var t = 0u; t < TAPS; t = t + 1u) { red[t][lid.x] = acc[t]; }
  workgroupBarrier();
  if (lid.x < TAPS) {
    var sum = 0.0;
    for (var k = 0u; k < 64u; k = k + 1u) { sum = sum + red[lid.x][k]; }
    O[(s * p.c + c) * TAPS + lid.x] = sum;
  }
}
//#endif
