// Convolution as a workgroup-tiled implicit GEMM (tiles in workgroup memory, barriers,
// register blocking, the next K step's loads in flight during the current step's FMAs): one
// tile loop (block CORE) shared by the three directions, each of which supplies only its
// address functions (blocks FWD, DGRAD, WGRAD): `krange` (the K range of a workgroup),
// `setup` (per-invocation addresses, once), `fetch` (this invocation's share of the A and B
// tiles of one K step, into registers ra / rb) and `store` (the epilogue of one output
// element). No im2col buffer: the activations are gathered from the tensors themselves; the
// weights are first reordered (kernels/conv2d_reorder.wgsl, a pass over the small weight
// tensor) so the A operand is contiguous along K. NCHW activations, OIHW weights, f32 accumulation; the
// operand bindings are array<ELEM> (f32, or f16 for mixed precision: src/ops/precision.ts),
// converted to f32 as they are fetched, so the tiles in workgroup memory are f32 either way. Built for
// hardware GPUs (on lavapipe barriers are costly: docs/conv.md). Launchers:
// src/ops/conv/tiled.ts.
//
// The GEMM of each direction, per group g (cinG = Cin/groups, coutG = Cout/groups, P = OH·OW,
// T = KH·KW taps):
//   FWD    C[co, n] = Σ_k Wf[co, k] · X̂[k, n]    M = coutG, N = batch·P (n = (img, oy, ox)),
//          K = T·cinG ordered (tap, ci), ci fastest; Wf = W reordered to [Cout, T, cinG];
//          epilogue act(C + bias[co]) → Y.
//   DGRAD  by stride residue r = (ry, rx) of the input pixel (iy = ry + qy·sh, ix = rx + qx·sw):
//          C[ci, n] = Σ_k Wd[ci, k] · dŶ[k, n]   M = cinG, N = batch·QH·QW (QH = ⌈H/sh⌉,
//          QW = ⌈W/sw⌉), K = (taps of residue r)·coutG ordered (a, b, co), co fastest, over the
//          taps ky = ky0 + a·sh, kx = kx0 + b·sw that reach an output pixel (no zero taps);
//          Wd = W reordered to [groups, cinG, T, coutG]; epilogue → dX (pixels past H, W dropped).
//   WGRAD  C[co, n] = Σ_k dY[co, k] · X̂[k, n]    M = coutG, N = cinG·T (n = (ci, ky, kx)),
//          K = batch·P, split in `parts` chunks of kchunk (split-K); part s writes
//          O[s·Cout·N + (g·coutG + co)·N + n], summed by conv2d_wgrad.wgsl's REDUCE when parts > 1.
//
// Tile geometry (template constants, one pipeline per (direction, TM, TN, TK, RM, RN)):
//   workgroup WX × WY = (TN/RN) × (TM/RM) invocations; output tile TM × TN; K in steps of TK
//   staged as As[k][m] and Bs[k][n] in var<workgroup> (rows of vec4s, one vec4 of padding per
//   row so that k-fastest stores do not collide in one bank; 16·TK·(TM/4 + TN/4 + 2) bytes).
//   Invocation (tx, ty) owns RM × RN outputs: rows q·4·WY + 4·ty + i (q < RM/4, i < 4),
//   columns c·4·WX + 4·tx + j (c < RN/4, j < 4), read from workgroup memory as vec4s.
//   Staging: element e of invocation li is idx = li + e·NT (NT = WX·WY): "m-fastest" operands
//   (A_KFAST / B_KFAST false) put m = idx % TM (B: n = idx % TN; coalesced along pixels),
//   "k-fastest" ones k = idx % TK (coalesced along K: the reordered weights, WGRAD's dY and X).
//   NT must be a multiple of TM, TN and TK. Loop: fetch(k0) → registers; per step: registers →
//   workgroup memory, barrier, fetch(k0 + TK) (in flight), TK rank-1 updates, barrier.
//   fast (a uniform): FWD cinG % TK == 0, DGRAD coutG % TK == 0: one K step lies inside one
//   tap, so the tap decomposition runs once per step, not per element.
// Uniforms (//#params): ConvTiledParams, declared in src/ops/conv/tiled.ts: the geometry
//   (n, cin, h, w, cout, oh, ow, groups, kh, kw, sh, sw, ph, pw, cing, coutg), gm, gn, gk (the
//   GEMM per group), gx (workgroups along x before folding into y), mtiles, parts (DGRAD: the
//   sh·sw residues; WGRAD: the K splits; FWD: 1), kchunk (WGRAD), qh, qw (DGRAD), fast, act
//   (ACT_CODE: 0 none, 1 relu, 2 relu6), has_bias (FWD).
// Bindings (2–4 storage buffers): FWD 0 P, 1 X, 2 Wf, 3 Y, 4 bias (the device's placeholder when
//   has_bias = 0); DGRAD 0 P, 1 dY, 2 Wd, 3 dX; WGRAD 0 P, 1 dY, 2 X, 3 O.
// Dispatch: x, y = ⌈gn / TN⌉ column tiles folded by grid() (tile = wid.x + wid.y·gx);
//   z = groups · parts · mtiles (mtiles = ⌈gm / TM⌉; z = (g·parts + part)·mtiles + mtile).

//#params

//#if CORE
const TM: u32 = TM_VALUE;
const TN: u32 = TN_VALUE;
const TK: u32 = TK_VALUE;
const RM: u32 = RM_VALUE;
const RN: u32 = RN_VALUE;
const WX: u32 = TN / RN;
const WY: u32 = TM / RM;
const NT: u32 = WX * WY;
const QM: u32 = RM / 4u;
const QN: u32 = RN / 4u;
const A_PER: u32 = TM * TK / NT;    // A elements one invocation stages per K step
const B_PER: u32 = TN * TK / NT;
const AS_ROW: u32 = TM / 4u + 1u;   // vec4s per k row of As (one of padding)
const BS_ROW: u32 = TN / 4u + 1u;

var<workgroup> As: array<vec4<f32>, TK * AS_ROW>;   // [k][m / 4]
var<workgroup> Bs: array<vec4<f32>, TK * BS_ROW>;   // [k][n / 4]
var<private> ra: array<f32, A_PER>;                 // this invocation's A elements of the next step
var<private> rb: array<f32, B_PER>;

// (row m, k) of A element e of invocation li within the tile, and (k, column n) of B element e
fn aAt(li: u32, e: u32) -> vec2<u32> {
  let idx = li + e * NT;
  if (A_KFAST) { return vec2<u32>(idx / TK, idx % TK); }
  return vec2<u32>(idx % TM, idx / TM);
}

fn bAt(li: u32, e: u32) -> vec2<u32> {
  let idx = li + e * NT;
  if (B_KFAST) { return vec2<u32>(idx % TK, idx / TK); }
  return vec2<u32>(idx / TN, idx % TN);
}

// registers → workgroup memory
fn commit(li: u32) {
  for (var e = 0u; e < A_PER; e = e + 1u) {
    let mk = aAt(li, e);
    let i = mk.y * (4u * AS_ROW) + mk.x;
    As[i / 4u][i % 4u] = ra[e];
  }
  for (var e = 0u; e < B_PER; e = e + 1u) {
    let kn = bAt(li, e);
    let i = kn.x * (4u * BS_ROW) + kn.y;
    Bs[i / 4u][i % 4u] = rb[e];
  }
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let li = lid.y * WX + lid.x;
  let ntile = wid.x + wid.y * p.gx;
  let mtile = wid.z % p.mtiles;
  let part = wid.z / p.mtiles;          // g · parts + (residue | split)
  let m0 = mtile * TM;
  let n0 = ntile * TN;
  let kr = krange(part);
  setup(part, m0, n0, li);
  if (kr.x < kr.y) { fetch(kr.x, li, kr.y); }
  var acc: array<vec4<f32>, RM * QN>;   // [row q·4 + i][column quad c]
  for (var k0 = kr.x; k0 < kr.y; k0 = k0 + TK) {
    commit(li);
    workgroupBarrier();
    // the next step's global loads are in flight while this step multiplies
    if (k0 + TK < kr.y) { fetch(k0 + TK, li, kr.y); }
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
      var a: array<vec4<f32>, QM>;
      var b: array<vec4<f32>, QN>;
      for (var q = 0u; q < QM; q = q + 1u) { a[q] = As[kk * AS_ROW + q * WY + lid.y]; }
      for (var c = 0u; c < QN; c = c + 1u) { b[c] = Bs[kk * BS_ROW + c * WX + lid.x]; }
      for (var q = 0u; q < QM; q = q + 1u) {
        for (var i = 0u; i < 4u; i = i + 1u) {
          let av = vec4<f32>(a[q][i]);
          for (var c = 0u; c < QN; c = c + 1u) {
            acc[(q * 4u + i) * QN + c] = fma(av, b[c], acc[(q * 4u + i) * QN + c]);
          }
        }
      }
    }
    workgroupBarrier();
  }
  for (var q = 0u; q < QM; q = q + 1u) {
    for (var i = 0u; i < 4u; i = i + 1u) {
      let m = m0 + q * 4u * WY + lid.y * 4u + i;
      if (m >= p.gm) { continue; }
      for (var c = 0u; c < QN; c = c + 1u) {
        let v = acc[(q * 4u + i) * QN + c];
        let nb = n0 + c * 4u * WX + lid.x * 4u;
        for (var j = 0u; j < 4u; j = j + 1u) {
          if (nb + j < p.gn) { store(m, nb + j, v[j]); }
        }
      }
    }
  }
}
//#endif

//#if FWD
APPLY_ACT_FN
const A_KFAST: bool = true;     // Wf rows are contiguous along K
const B_KFAST: bool = false;    // X̂ columns are pixels

@group(0) @binding(1) var<storage, read> X: array<ELEM>;
@group(0) @binding(2) var<storage, read> Wf: array<ELEM>;     // [Cout, T, cinG]
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;   // the placeholder when has_bias = 0 (unread)

var<private> grp: u32;
var<private> a_ok: array<bool, A_PER>;   // the A rows (k-fastest: they vary with e) are real channels
var<private> a_base: array<u32, A_PER>;  // Wf offset of each row
var<private> b_ok: bool;      // this invocation's B column (m-fastest: fixed) is a real pixel
var<private> b_base: u32;     // X offset of (img, g·cinG)
var<private> b_iy: i32;       // oy·sh − ph
var<private> b_ix: i32;       // ox·sw − pw

fn krange(part: u32) -> vec2<u32> {
  return vec2<u32>(0u, p.gk);
}

fn setup(part: u32, m0: u32, n0: u32, li: u32) {
  grp = part;
  for (var e = 0u; e < A_PER; e = e + 1u) {
    let co = m0 + aAt(li, e).x;
    a_ok[e] = co < p.gm;
    a_base[e] = (grp * p.coutg + min(co, p.gm - 1u)) * p.gk;
  }
  let n = min(n0 + li % TN, p.gn - 1u);
  b_ok = n0 + li % TN < p.gn;
  let ox = n % p.ow;
  let t = n / p.ow;
  let oy = t % p.oh;
  let img = t / p.oh;
  b_base = (img * p.cin + grp * p.cing) * p.h * p.w;
  b_iy = i32(oy * p.sh) - i32(p.ph);
  b_ix = i32(ox * p.sw) - i32(p.pw);
}

// X̂[k, this column] for k = (tap, ci); zero outside the image or past K
fn xval(tap: u32, ci: u32, ok: bool) -> f32 {
  let ky = tap / p.kw;
  let iy = b_iy + i32(ky);
  let ix = b_ix + i32(tap - ky * p.kw);
  if (!ok || iy < 0 || iy >= i32(p.h) || ix < 0 || ix >= i32(p.w)) { return 0.0; }
  return f32(X[b_base + ci * p.h * p.w + u32(iy) * p.w + u32(ix)]);
}

fn fetch(k0: u32, li: u32, kend: u32) {
  for (var e = 0u; e < A_PER; e = e + 1u) {
    let k = k0 + aAt(li, e).y;
    var v = 0.0;
    if (a_ok[e] && k < kend) { v = f32(Wf[a_base[e] + k]); }
    ra[e] = v;
  }
  if (p.fast != 0u) {
    // the whole step lies in one tap: k = tap·cinG + ci0 + kk
    let tap = k0 / p.cing;
    let ci0 = k0 - tap * p.cing;
    let ky = tap / p.kw;
    let iy = b_iy + i32(ky);
    let ix = b_ix + i32(tap - ky * p.kw);
    let ok = b_ok && iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
    let base = b_base + ci0 * p.h * p.w + u32(max(iy, 0)) * p.w + u32(max(ix, 0));
    for (var e = 0u; e < B_PER; e = e + 1u) {
      var v = 0.0;
      if (ok) { v = f32(X[base + bAt(li, e).x * p.h * p.w]); }
      rb[e] = v;
    }
  } else {
    for (var e = 0u; e < B_PER; e = e + 1u) {
      let kk = bAt(li, e).x;
      let k = min(k0 + kk, kend - 1u);
      let tap = k / p.cing;
      rb[e] = xval(tap, k - tap * p.cing, b_ok && k0 + kk < kend);
    }
  }
}

fn store(m: u32, n: u32, v: f32) {
  let c = grp * p.coutg + m;
  let plane = p.oh * p.ow;
  let img = n / plane;
  var r = v;
  if (p.has_bias != 0u) { r = r + bias[c]; }
  Y[(img * p.cout + c) * plane + (n - img * plane)] = apply_act(r, p.act);
}
//#endif

//#if DGRAD
const A_KFAST: bool = true;     // Wd rows are contiguous along co
const B_KFAST: bool = false;    // dŶ columns are pixels

@group(0) @binding(1) var<storage, read> dY: array<ELEM>;
@group(0) @binding(2) var<storage, read> Wd: array<ELEM>;     // [groups, cinG, T, coutG]
@group(0) @binding(3) var<storage, read_write> dX: array<f32>;

var<private> grp: u32;
var<private> ry: u32;         // this workgroup's stride residue (iy ≡ ry mod sh, ix ≡ rx mod sw)
var<private> rx: u32;
var<private> ky0: u32;        // first tap of the residue: ky = ky0 + a·sh, kx = kx0 + b·sw
var<private> kx0: u32;
var<private> nkx: u32;        // taps per row of the residue
var<private> a_ok: array<bool, A_PER>;   // the A rows (input channels; k-fastest: they vary with e)
var<private> a_base: array<u32, A_PER>;  // Wd offset of (g, ci)
var<private> b_ok: bool;      // B column (m-fastest: fixed) = pixel (img, qy, qx)
var<private> b_base: u32;     // dY offset of (img, g·coutG)
var<private> b_oy: i32;       // qy + cy: oy = b_oy − a
var<private> b_ox: i32;       // qx + cx: ox = b_ox − b

// taps of the residue along one axis: [first tap, count, offset c] with o = q + c − a
fn axis(r: u32, pad: u32, s: u32, k: u32) -> vec3<u32> {
  let k0 = (r + pad) % s;
  var cnt = 0u;
  if (k > k0) { cnt = (k - k0 + s - 1u) / s; }
  return vec3<u32>(k0, cnt, (r + pad - k0) / s);
}

fn krange(part: u32) -> vec2<u32> {
  let r = part % p.parts;
  let ay = axis(r / p.sw, p.ph, p.sh, p.kh);
  let ax = axis(r % p.sw, p.pw, p.sw, p.kw);
  return vec2<u32>(0u, ay.y * ax.y * p.coutg);
}

fn setup(part: u32, m0: u32, n0: u32, li: u32) {
  grp = part / p.parts;
  let r = part % p.parts;
  ry = r / p.sw;
  rx = r % p.sw;
  let ay = axis(ry, p.ph, p.sh, p.kh);
  let ax = axis(rx, p.pw, p.sw, p.kw);
  ky0 = ay.x;
  kx0 = ax.x;
  nkx = ax.y;
  for (var e = 0u; e < A_PER; e = e + 1u) {
    let ci = m0 + aAt(li, e).x;
    a_ok[e] = ci < p.gm;
    a_base[e] = (grp * p.cing + min(ci, p.gm - 1u)) * p.kh * p.kw * p.coutg;
  }
  let n = min(n0 + li % TN, p.gn - 1u);
  b_ok = n0 + li % TN < p.gn;
  let qx = n % p.qw;
  let t = n / p.qw;
  let qy = t % p.qh;
  let img = t / p.qh;
  b_base = (img * p.cout + grp * p.coutg) * p.oh * p.ow;
  b_oy = i32(qy + ay.z);
  b_ox = i32(qx + ax.z);
}

// the full tap index of residue tap t = (a, b)
fn tapOf(t: u32) -> u32 {
  let a = t / nkx;
  return (ky0 + a * p.sh) * p.kw + kx0 + (t - a * nkx) * p.sw;
}

fn yval(t: u32, co: u32, ok: bool) -> f32 {
  let a = t / nkx;
  let oy = b_oy - i32(a);
  let ox = b_ox - i32(t - a * nkx);
  if (!ok || oy < 0 || oy >= i32(p.oh) || ox < 0 || ox >= i32(p.ow)) { return 0.0; }
  return f32(dY[b_base + co * p.oh * p.ow + u32(oy) * p.ow + u32(ox)]);
}

fn fetch(k0: u32, li: u32, kend: u32) {
  if (p.fast != 0u) {
    // the whole step lies in one tap: k = t·coutG + co0 + kk
    let t = k0 / p.coutg;
    let co0 = k0 - t * p.coutg;
    let wtap = tapOf(t) * p.coutg + co0;
    for (var e = 0u; e < A_PER; e = e + 1u) {
      var v = 0.0;
      if (a_ok[e]) { v = f32(Wd[a_base[e] + wtap + aAt(li, e).y]); }
      ra[e] = v;
    }
    let a = t / nkx;
    let oy = b_oy - i32(a);
    let ox = b_ox - i32(t - a * nkx);
    let ok = b_ok && oy >= 0 && oy < i32(p.oh) && ox >= 0 && ox < i32(p.ow);
    let base = b_base + co0 * p.oh * p.ow + u32(max(oy, 0)) * p.ow + u32(max(ox, 0));
    for (var e = 0u; e < B_PER; e = e + 1u) {
      var v = 0.0;
      if (ok) { v = f32(dY[base + bAt(li, e).x * p.oh * p.ow]); }
      rb[e] = v;
    }
  } else {
    for (var e = 0u; e < A_PER; e = e + 1u) {
      let k = k0 + aAt(li, e).y;
      var v = 0.0;
      if (a_ok[e] && k < kend) {
        let t = k / p.coutg;
        v = f32(Wd[a_base[e] + tapOf(t) * p.coutg + k - t * p.coutg]);
      }
      ra[e] = v;
    }
    for (var e = 0u; e < B_PER; e = e + 1u) {
      let kk = bAt(li, e).x;
      let k = min(k0 + kk, kend - 1u);
      let t = k / p.coutg;
      rb[e] = yval(t, k - t * p.coutg, b_ok && k0 + kk < kend);
    }
  }
}

fn store(m: u32, n: u32, v: f32) {
  let qx = n % p.qw;
  let t = n / p.qw;
  let qy = t % p.qh;
  let img = t / p.qh;
  let iy = ry + qy * p.sh;
  let ix = rx + qx * p.sw;
  if (iy < p.h && ix < p.w) {
    dX[((img * p.cin + grp * p.cing + m) * p.h + iy) * p.w + ix] = v;
  }
}
//#endif

//#if WGRAD
const A_KFAST: bool = true;     // dY rows are contiguous along K = (img, pixel)
const B_KFAST: bool = true;     // X̂ columns (ci, ky, kx) read consecutive pixels along K

@group(0) @binding(1) var<storage, read> dY: array<ELEM>;
@group(0) @binding(2) var<storage, read> X: array<ELEM>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;

var<private> grp: u32;
var<private> split: u32;
var<private> a_ok: array<bool, A_PER>;    // k-fastest: the rows (output channels) vary with e
var<private> a_row: array<u32, A_PER>;    // dY offset of (img 0, g·coutG + co)
var<private> b_ok: array<bool, B_PER>;    // the columns n = (ci, ky, kx) vary with e
var<private> b_off: array<u32, B_PER>;    // X offset of (img 0, g·cinG + ci)
var<private> b_ky: array<i32, B_PER>;     // ky − ph
var<private> b_kx: array<i32, B_PER>;     // kx − pw

fn krange(part: u32) -> vec2<u32> {
  let s = part % p.parts;
  let kb = s * p.kchunk;
  return vec2<u32>(kb, min(kb + p.kchunk, p.gk));
}

fn setup(part: u32, m0: u32, n0: u32, li: u32) {
  grp = part / p.parts;
  split = part % p.parts;
  let plane = p.oh * p.ow;
  for (var e = 0u; e < A_PER; e = e + 1u) {
    let co = m0 + aAt(li, e).x;
    a_ok[e] = co < p.gm;
    a_row[e] = (grp * p.coutg + min(co, p.gm - 1u)) * plane;
  }
  let ksz = p.kh * p.kw;
  for (var e = 0u; e < B_PER; e = e + 1u) {
    let n = n0 + bAt(li, e).y;
    b_ok[e] = n < p.gn;
    let nc = min(n, p.gn - 1u);
    let ci = nc / ksz;
    let tap = nc - ci * ksz;
    let ky = tap / p.kw;
    b_off[e] = (grp * p.cing + ci) * p.h * p.w;
    b_ky[e] = i32(ky) - i32(p.ph);
    b_kx[e] = i32(tap - ky * p.kw) - i32(p.pw);
  }
}

fn fetch(k0: u32, li: u32, kend: u32) {
  // k-fastest with NT a multiple of TK: this invocation's k = k0 + li % TK in every element
  let kk = li % TK;
  let kok = k0 + kk < kend;
  let k = min(k0 + kk, kend - 1u);
  let plane = p.oh * p.ow;
  let img = k / plane;
  let pix = k - img * plane;
  let oy = pix / p.ow;
  let ox = pix - oy * p.ow;
  let ybase = img * p.cout * plane + pix;
  for (var e = 0u; e < A_PER; e = e + 1u) {
    var v = 0.0;
    if (kok && a_ok[e]) { v = f32(dY[ybase + a_row[e]]); }
    ra[e] = v;
  }
  let xbase = img * p.cin * p.h * p.w;
  let iy0 = i32(oy * p.sh);
  let ix0 = i32(ox * p.sw);
  for (var e = 0u; e < B_PER; e = e + 1u) {
    let iy = iy0 + b_ky[e];
    let ix = ix0 + b_kx[e];
    var v = 0.0;
    if (kok && b_ok[e] && iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
      v = f32(X[xbase + b_off[e] + u32(iy) * p.w + u32(ix)]);
    }
    rb[e] = v;
  }
}

fn store(m: u32, n: u32, v: f32) {
  O[(split * p.cout + grp * p.coutg + m) * p.gn + n] = v;
}
//#endif
