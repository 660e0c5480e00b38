// Convolution forward as an implicit GEMM, register-blocked (no barriers), NCHW / OIHW.
// Operand bindings are array<ELEM> (f32, or f16 for mixed precision: src/ops/precision.ts); every
// load converts to f32, so the accumulation and the output are f32 either way.
//   Y[n, co, oy, ox] = act( bias[co] + Σ_{ci in group, ky, kx} W[co, ci, ky, kx] ·
//                            X[n, g·cinG + ci, oy·sh − ph + ky, ox·sw − pw + kx] )
//   (taps outside the input read as zero padding).
// Each invocation computes BM output channels (of one group) × BP consecutive output
// columns of one output row: BM·BP accumulators, BP input loads and BM weight loads per
// tap. The weight loads are uniform across a workgroup (its channel block comes from
// workgroup_id.z), which lavapipe turns into scalar loads; only the input loads gather.
// BM, BP, KW, SW are substituted per instantiation, APPLY_ACT_FN by ACT_WGSL's apply_act
// (src/ops/conv/direct.ts, src/ops/activation.ts).
// Uniforms (//#params): ConvForwardParams, declared in src/ops/conv/direct.ts: the geometry
//   (n, cin, h, w, cout, oh, ow, groups, kh, kw, sh, sw, ph, pw, cing, coutg), owb, npix, cob,
//   act (ACT_CODE: 0 none, 1 relu, 2 relu6), has_bias.
// Bindings: 0 P, 1 X, 2 W, 3 Y, 4 bias (the device's placeholder when has_bias = 0: never read).
// p.act and p.has_bias select the epilogue: uniforms, not pipeline constants, so one pipeline
// serves every epilogue.
// Dispatch: workgroup 64; x,y: ceil(npix / 64) workgroups folded by grid() (npix =
//   N·OH·ceil(OW/BP) pixel blocks); z: groups · cob (cob = ceil(coutG / BM) channel blocks).

//#params
APPLY_ACT_FN

const BM: u32 = BM_VALUE;
const BP: u32 = BP_VALUE;
const KW: u32 = KW_VALUE;          // kernel width and column stride, compiled in
const SW: u32 = SW_VALUE;
const SEG: u32 = (BP - 1u) * SW + KW;

@group(0) @binding(1) var<storage, read> X: array<ELEM>;
@group(0) @binding(2) var<storage, read> Wt: array<ELEM>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

@group(0) @binding(4) var<storage, read> bias: array<f32>;   // the placeholder when has_bias = 0 (unread)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nw: vec3<u32>) {
  let pb = gid.x + gid.y * nw.x * 64u;
  if (pb >= p.npix) { return; }
  let g = wid.z / p.cob;
  let co0 = (wid.z % p.cob) * BM;          // first output channel, local to the group
  let xb = pb % p.owb;
  let t = pb / p.owb;
  let oy = t % p.oh;
  let n = t / p.oh;
  let ox0 = xb * BP;
  let ksz = p.kh * p.kw;
  let wrow = p.cing * ksz;                   // weight stride between output channels
  var wb: array<u32, BM>;
  for (var i = 0u; i < BM; i = i + 1u) {
    wb[i] = (g * p.coutg + min(co0 + i, p.coutg - 1u)) * wrow;
  }
  let iy0 = i32(oy * p.sh) - i32(p.ph);
  let ix0 = i32(ox0 * SW) - i32(p.pw);
  let hi = i32(p.h);
  let wi = i32(p.w);
  var acc: array<f32, BM * BP>;
  for (var ci = 0u; ci < p.cing; ci = ci + 1u) {
    let xplane = (n * p.cin + g * p.cing + ci) * p.h * p.w;
    let wci = ci * ksz;
    for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
      let iy = iy0 + i32(ky);
      if (iy < 0 || iy >= hi) { continue; }
      let xrow = xplane + u32(iy) * p.w;
      // the input row segment the BP columns' KW taps share
      var seg: array<f32, SEG>;
      for (var e = 0u; e < SEG; e = e + 1u) {
        let ix = ix0 + i32(e);
        let v = f32(X[xrow + u32(clamp(ix, 0, wi - 1))]);
        seg[e] = select(0.0, v, ix >= 0 && ix < wi);
      }
      let wk = wci + ky * KW;
      for (var kx = 0u; kx < KW; kx = kx + 1u) {
        for (var i = 0u; i < BM; i = i + 1u) {
          let wv = f32(Wt[wb[i] + wk + kx]);
          for (var j = 0u; j < BP; j = j + 1u) {
            acc[i * BP + j] = acc[i * BP + j] + wv * seg[j * SW + kx];
          }
        }
      }
    }
  }
  for (var i = 0u; i < BM; i = i + 1u) {
    let co = co0 + i;
    if (co >= p.coutg) { break; }
    let c = g * p.coutg + co;
    var b = 0.0;
    if (p.has_bias == 1u) { b = bias[c]; }
    let yrow = ((n * p.cout + c) * p.oh + oy) * p.ow;
    for (var j = 0u; j < BP; j = j + 1u) {
      let ox = ox0 + j;
      if (ox < p.ow) {
        Y[yrow + ox] = apply_act(acc[i * BP + j] + b, p.act);
      }
    }
  }
}
