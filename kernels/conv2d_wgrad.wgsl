// Convolution weight and bias gradients, f32, NCHW / OIHW. Three entry blocks:
//
// WGRAD: implicit GEMM reducing over N·OH·OW, register-blocked, no barriers.
//   dW[g·coutG + co, ci, ky, kx] = Σ_{n, oy, ox} dY[n, g·coutG + co, oy, ox] ·
//                                   X[n, g·cinG + ci, oy·sh − ph + ky, ox·sw − pw + kx]
//   GEMM columns col = ci·KH·KW + ky·KW + kx (cinG·KH·KW per group). Each invocation
//   computes BM output channels × BP consecutive columns; the dY loads are uniform across
//   the workgroup (channel block from workgroup_id.z), the X loads gather.
//   The reduction over rows (n, oy) is split in S parts (workgroup_id.y) when there are
//   too few columns to fill the machine; part s writes O[s·cout·cinG·KH·KW + ...], summed
//   by REDUCE (S = 1 writes dW directly).
//   Bindings: 0 P, 1 dY, 2 X, 3 O. Dispatch: (ceil(ceil(cinG·KH·KW / BP) / 64), S, groups·cob).
//
// REDUCE: O[i] = Σ_{s < S} part[s·len + i]. Bindings: 0 R, 1 part, 2 O.
//   Dispatch: workgroup 64, grid(len, 64).
//
// BGRAD: db[c] = Σ_{n, pixel} dY[n, c, pixel]. One workgroup of 64 per channel: strided
//   per-invocation sums, then one tree reduction in workgroup memory (6 barriers).
//   Bindings: 0 B, 1 dY, 2 db. Dispatch: (C, 1, 1)... folded by grid(C, 1).

//#if WGRAD
struct P {
  n: u32, cin: u32, h: u32, w: u32,
  cout: u32, oh: u32, ow: u32, groups: u32,
  kh: u32, kw: u32, sh: u32, sw: u32,
  ph: u32, pw: u32, cing: u32, coutg: u32,
  ncol: u32, splits: u32, cob: u32, pad0: u32,
};

const BM: u32 = BM_VALUE;
const BP: u32 = BP_VALUE;

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let col0 = gid.x * BP;
  if (col0 >= p.ncol) { return; }
  let s = wid.y;
  let g = wid.z / p.cob;
  let co0 = (wid.z % p.cob) * BM;
  let ksz = p.kh * p.kw;
  // per column: input plane offset (channel within the batch item), ky, kx
  var xoff: array<u32, BP>;
  var dyk: array<i32, BP>;
  var dxk: array<i32, BP>;
  for (var j = 0u; j < BP; j = j + 1u) {
    let col = min(col0 + j, p.ncol - 1u);
    let ci = col / ksz;
    let k = col % ksz;
    xoff[j] = (g * p.cing + ci) * p.h * p.w;
    dyk[j] = i32(k / p.kw) - i32(p.ph);
    dxk[j] = i32(k % p.kw) - i32(p.pw);
  }
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
  var acc: array<f32, BM * BP>;
  for (var row = r0; row < r1; row = row + 1u) {
    let n = row / p.oh;
    let oy = row % p.oh;
    let xn = n * p.cin * p.h * p.w;
    let yn = n * p.cout * ohw + oy * p.ow;
    var xrow: array<u32, BP>;
    var rowok: array<bool, BP>;
    for (var j = 0u; j < BP; j = j + 1u) {
      let iy = i32(oy * p.sh) + dyk[j];
      rowok[j] = iy >= 0 && iy < hi;
      xrow[j] = xn + xoff[j] + u32(clamp(iy, 0, hi - 1)) * p.w;
    }
    for (var ox = 0u; ox < p.ow; ox = ox + 1u) {
      var xv: array<f32, BP>;
      let ixb = i32(ox * p.sw);
      for (var j = 0u; j < BP; j = j + 1u) {
        let ix = ixb + dxk[j];
        let v = X[xrow[j] + u32(clamp(ix, 0, wi - 1))];
        xv[j] = select(0.0, v, rowok[j] && ix >= 0 && ix < wi);
      }
      for (var i = 0u; i < BM; i = i + 1u) {
        let gv = dY[yn + yoff[i] + ox];
        for (var j = 0u; j < BP; j = j + 1u) {
          acc[i * BP + j] = acc[i * BP + j] + gv * xv[j];
        }
      }
    }
  }
  let len = p.cout * p.ncol;
  for (var i = 0u; i < BM; i = i + 1u) {
    let co = co0 + i;
    if (co >= p.coutg) { break; }
    let base = s * len + (g * p.coutg + co) * p.ncol;
    for (var j = 0u; j < BP; j = j + 1u) {
      if (col0 + j < p.ncol) { O[base + col0 + j] = acc[i * BP + j]; }
    }
  }
}
//#endif

//#if REDUCE
struct R { len: u32, splits: u32, pad0: u32, pad1: u32 };
@group(0) @binding(0) var<uniform> r: R;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> O: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= r.len) { return; }
  var s = 0.0;
  for (var k = 0u; k < r.splits; k = k + 1u) { s = s + part[k * r.len + i]; }
  O[i] = s;
}
//#endif

//#if BGRAD
struct B { n: u32, c: u32, hw: u32, pad0: u32 };
@group(0) @binding(0) var<uniform> b: B;
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nw: vec3<u32>) {
  let c = wid.x + wid.y * nw.x;
  let valid = c < b.c;
  var s = 0.0;
  if (valid) {
    for (var n = 0u; n < b.n; n = n + 1u) {
      let base = (n * b.c + c) * b.hw;
      for (var k = lid.x; k < b.hw; k = k + 64u) { s = s + dY[base + k]; }
    }
  }
  red[lid.x] = s;
  workgroupBarrier();
  for (var half = 32u; half > 0u; half = half >> 1u) {
    if (lid.x < half) { red[lid.x] = red[lid.x] + red[lid.x + half]; }
    workgroupBarrier();
  }
  if (lid.x == 0u && valid) { db[c] = red[0]; }
}
//#endif
