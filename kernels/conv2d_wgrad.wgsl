// Convolution weight and bias gradients, NCHW / OIHW. Three entry blocks. WGRAD's operands are
// array<ELEM> (f32, or f16 for mixed precision: src/ops/precision.ts), converted to f32 on load;
// REDUCE, BGRAD and every output are f32.
//
// WGRAD: implicit GEMM reducing over N·OH·OW, register-blocked, no barriers.
//   dW[g·coutG + co, ci, ky, kx] = Σ_{n, oy, ox} dY[n, g·coutG + co, oy, ox] ·
//                                   X[n, g·cinG + ci, oy·sh − ph + ky, ox·sw − pw + kx]
//   Each invocation owns one weight row (ci, ky) of a group, all KW taps, for BM output
//   channels: BM·KW accumulators. It walks the output rows of its split in steps of BQ
//   columns: one input segment of (BQ − 1)·SW + KW values (gathered) serves all KW taps,
//   and the BM·BQ output-gradient loads are uniform across the workgroup (channel block
//   from workgroup_id.z). KW, SW (and BM, BQ) are compiled in.
//   The reduction over rows (n, oy) is split in S parts (workgroup_id.y) when there are
//   too few weight rows to fill the machine; part s writes O[s·cout·cinG·KH·KW + ...],
//   summed by REDUCE (S = 1 writes dW directly).
//   Bindings: 0 P, 1 dY, 2 X, 3 O. Dispatch: (ceil(cinG·KH / 64), S, groups·cob).
//
// REDUCE: O[i] = Σ_{s < S} part[s·len + i]. Bindings: 0 P, 1 part, 2 O.
//   Dispatch: workgroup 64, grid(len, 64).
//
// BGRAD: db[c] = Σ_{n, pixel} dY[n, c, pixel]. One workgroup of 64 per (channel c, split s):
//   it sums the images n ≡ s (mod S) with strided per-invocation sums, then one tree
//   reduction in workgroup memory (6 barriers), and writes O[s·C + c] (summed over the splits
//   by REDUCE when S > 1: with few channels a GPU needs the batch split to fill its cores).
//   Bindings: 0 P, 1 dY, 2 O. Dispatch: (C, S, 1).
//
// Uniforms (//#params), declared in src/ops/conv/direct.ts, one block per entry:
//   WGRAD  ConvWeightGradParams: the geometry (n, cin, h, w, cout, oh, ow, groups, kh, kw, sh,
//          sw, ph, pw, cing, coutg), nrow (= cinG·KH weight rows), splits, cob
//   REDUCE SplitSumParams { len, splits }
//   BGRAD  BiasGradParams { n, c, hw (= OH·OW), splits }

//#params

//#if WGRAD

const BM: u32 = BM_VALUE;          // output channels per invocation
const BQ: u32 = BP_VALUE;          // output columns per step of the reduction
const KW: u32 = KW_VALUE;          // kernel width and column stride, compiled in
const SW: u32 = SW_VALUE;
const SEG: u32 = (BQ - 1u) * SW + KW;

@group(0) @binding(1) var<storage, read> dY: array<ELEM>;
@group(0) @binding(2) var<storage, read> X: array<ELEM>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  // this invocation's weight row: (ci, ky) of group g, all KW taps kx
  let kr = gid.x;
  if (kr >= p.nrow) { return; }
  let s = wid.y;
  let g = wid.z / p.cob;
  let co0 = (wid.z % p.cob) * BM;
  let ci = kr / p.kh;
  let ky = kr % p.kh;
  let xoff = (g * p.cing + ci) * p.h * p.w;
  var yoff: array<u32, BM>;
  for (var i = 0u; i < BM; i = i + 1u) {
    yoff[i] = (g * p.coutg + min(co0 + i, p.coutg - 1u)) * p.oh * p.ow;
  }
  let rows = p.n * p.oh;
  let r0 = (rows * s) / p.splits;
  let r1 = (rows * (s + 1u)) / p.splits;
  let hi = i32(p.h);
  let wi = i32(p.w);
  let ohw = p.oh * p.ow;
  var acc: array<f32, BM * KW>;
  for (var row = r0; row < r1; row = row + 1u) {
    let n = row / p.oh;
    let oy = row % p.oh;
    let iy = i32(oy * p.sh + ky) - i32(p.ph);
    if (iy < 0 || iy >= hi) { continue; }
    let xrow = n * p.cin * p.h * p.w + xoff + u32(iy) * p.w;
    let yrow = n * p.cout * ohw + oy * p.ow;
    for (var ox0 = 0u; ox0 < p.ow; ox0 = ox0 + BQ) {
      // the input segment BQ output columns' KW taps read
      let ixb = i32(ox0 * SW) - i32(p.pw);
      var seg: array<f32, SEG>;
      for (var e = 0u; e < SEG; e = e + 1u) {
        let ix = ixb + i32(e);
        let v = f32(X[xrow + u32(clamp(ix, 0, wi - 1))]);
        seg[e] = select(0.0, v, ix >= 0 && ix < wi);
      }
      for (var i = 0u; i < BM; i = i + 1u) {
        for (var q = 0u; q < BQ; q = q + 1u) {
          let ox = ox0 + q;
          let gv = select(0.0, f32(dY[yrow + yoff[i] + min(ox, p.ow - 1u)]), ox < p.ow);
          for (var kx = 0u; kx < KW; kx = kx + 1u) {
            acc[i * KW + kx] = acc[i * KW + kx] + gv * seg[q * SW + kx];
          }
        }
      }
    }
  }
  let ncol = p.cing * p.kh * KW;
  let len = p.cout * ncol;
  for (var i = 0u; i < BM; i = i + 1u) {
    let co = co0 + i;
    if (co >= p.coutg) { break; }
    let base = s * len + (g * p.coutg + co) * ncol + kr * KW;
    for (var kx = 0u; kx < KW; kx = kx + 1u) { O[base + kx] = acc[i * KW + kx]; }
  }
}
//#endif

//#if REDUCE
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.len) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.splits; k = k + 1u) { s = s + part[k * p.len + i]; }
  O[i] = s;
}
//#endif

//#if BGRAD
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let c = wid.x;
  let split = wid.y;
  var s = 0.0;
  for (var n = split; n < p.n; n = n + p.splits) {
    let base = (n * p.c + c) * p.hw;
    for (var k = lid.x; k < p.hw; k = k + 64u) { s = s + dY[base + k]; }
  }
  red[lid.x] = s;
  workgroupBarrier();
  for (var half = 32u; half > 0u; half = half >> 1u) {
    if (lid.x < half) { red[lid.x] = red[lid.x] + red[lid.x + half]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { O[split * p.c + c] = red[0]; }
}
//#endif
