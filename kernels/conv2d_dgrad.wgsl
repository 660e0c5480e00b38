// Convolution input gradient as a transposed convolution (implicit GEMM over the output
// gradient and the weights), register-blocked, no barriers. NCHW / OIHW.
// Operand bindings are array<ELEM> (f32, or f16 for mixed precision: src/ops/precision.ts); every
// load converts to f32, so the accumulation and the output are f32 either way.
//   dX[n, g·cinG + ci, iy, ix] = Σ_{co in group, ky, kx} dY[n, g·coutG + co, oy, ox] · W[g·coutG + co, ci, ky, kx]
//   over the taps with iy + ph − ky = oy·sh and ix + pw − kx = ox·sw, 0 <= oy < OH, 0 <= ox < OW.
// Strided convolutions: input columns are visited by residue r = ix mod sw, so the BP
// columns of one invocation (ix = r + (q0 + j)·sw) share the same valid kx taps
// (kx ≡ r + pw mod sw) and read consecutive output columns; rows likewise need only
// ky ≡ iy + ph (mod sh). No work is spent on taps that stride skips.
// Each invocation computes BM input channels × BP columns of one input row.
// Uniforms (//#params): ConvInputGradParams, declared in src/ops/conv/direct.ts: the geometry
//   (n, cin, h, w, cout, oh, ow, groups, kh, kw, sh, sw, ph, pw, cing, coutg), qbn, npix, cib.
// Bindings: 0 P, 1 dY, 2 W, 3 dX. BM, BP, KW, SW substituted per instantiation.
// Dispatch: workgroup 64; x,y: ceil(npix / 64) folded by grid() (npix = N·H·sw·qbn pixel
//   blocks, qbn = ceil(ceil(W / sw) / BP)); z: groups · cib (cib = ceil(cinG / BM)).

//#params

const BM: u32 = BM_VALUE;
const BP: u32 = BP_VALUE;
const KW: u32 = KW_VALUE;          // kernel width and column stride, compiled in
const SW: u32 = SW_VALUE;
const MX: u32 = (KW + SW - 1u) / SW;   // valid kx taps per column residue, at most
const SEG: u32 = BP + MX - 1u;

@group(0) @binding(1) var<storage, read> dY: array<ELEM>;
@group(0) @binding(2) var<storage, read> Wt: array<ELEM>;
@group(0) @binding(3) var<storage, read_write> dX: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nw: vec3<u32>) {
  let pb = gid.x + gid.y * nw.x * 64u;
  if (pb >= p.npix) { return; }
  let g = wid.z / p.cib;
  let ci0 = (wid.z % p.cib) * BM;          // first input channel, local to the group
  let qb = pb % p.qbn;
  var t = pb / p.qbn;
  let r = t % p.sw;
  t = t / p.sw;
  let iy = t % p.h;
  let n = t / p.h;
  let q0 = qb * BP;
  let ksz = p.kh * p.kw;
  var wb: array<u32, BM>;
  for (var i = 0u; i < BM; i = i + 1u) {
    wb[i] = min(ci0 + i, p.cing - 1u) * ksz;
  }
  let ohi = i32(p.oh);
  let owi = i32(p.ow);
  let ky0 = (iy + p.ph) % p.sh;
  // valid kx for this residue: kx0 + m·SW (m < MX); column j then reads output column
  // ob + (MX − 1) − m + j: one segment of SEG output-gradient values serves all of them
  let kx0 = (r + p.pw) % SW;
  let ob = i32((r + p.pw - kx0) / SW + q0) - i32(MX - 1u);
  var acc: array<f32, BM * BP>;
  for (var co = 0u; co < p.coutg; co = co + 1u) {
    let c = g * p.coutg + co;
    let yplane = (n * p.cout + c) * p.oh * p.ow;
    let wco = c * p.cing * ksz;
    for (var ky = ky0; ky < p.kh; ky = ky + p.sh) {
      let oy = (i32(iy + p.ph) - i32(ky)) / i32(p.sh);
      if (oy < 0 || oy >= ohi) { continue; }
      let yrow = yplane + u32(oy) * p.ow;
      var seg: array<f32, SEG>;
      for (var e = 0u; e < SEG; e = e + 1u) {
        let ox = ob + i32(e);
        let v = f32(dY[yrow + u32(clamp(ox, 0, owi - 1))]);
        seg[e] = select(0.0, v, ox >= 0 && ox < owi);
      }
      let wk = wco + ky * KW;
      for (var m = 0u; m < MX; m = m + 1u) {
        let kx = kx0 + m * SW;
        if (kx < KW) {
          for (var i = 0u; i < BM; i = i + 1u) {
            let wv = f32(Wt[wk + wb[i] + kx]);
            for (var j = 0u; j < BP; j = j + 1u) {
              acc[i * BP + j] = acc[i * BP + j] + wv * seg[j + MX - 1u - m];
            }
          }
        }
      }
    }
  }
  for (var i = 0u; i < BM; i = i + 1u) {
    let ci = ci0 + i;
    if (ci >= p.cing) { break; }
    let xrow = ((n * p.cin + g * p.cing + ci) * p.h + iy) * p.w;
    for (var j = 0u; j < BP; j = j + 1u) {
      let ix = r + (q0 + j) * p.sw;
      if (ix < p.w) { dX[xrow + ix] = acc[i * BP + j]; }
    }
  }
}
