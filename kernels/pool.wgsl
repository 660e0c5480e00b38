// 2-D pooling over NCHW planes (P.planes = N*C planes of H x W, output OH x OW).
// Window of output (oh, ow): rows oh*SH - ph .. + KH - 1, cols ow*SW - pw .. + KW - 1;
// cells outside the input are padding (-inf for max, 0 counted in the divisor for avg).
// Kernel size and stride are pipeline-overridable constants (one pipeline per window shape:
// divisions by them compile to multiplies; integer division by a uniform is slow on CPU
// adapters), and the dispatch is 3-D so no invocation divides to find its coordinates.
//
// max_fwd:  y = max over the window, arg = ih*W + iw of the first maximum in row-major
//           window order (strict >, so ties go to the earliest cell)
//           bindings: 0 P, 1 x, 2 y, 3 arg(i32)       invocation (ow, oh, plane)
// max_bwd:  dx[ih, iw] = sum of g over the outputs whose window covers (ih, iw) and whose
//           arg is (ih, iw): a gather, no atomics, deterministic
//           bindings: 0 P, 1 g, 2 arg, 3 dx           invocation (iw, ih, plane)
// avg_fwd:  y = sum over the window / (KH*KW)   (count_include_pad, PyTorch's default)
//           bindings: 0 P, 1 x, 2 y                   invocation (ow, oh, plane)
// avg_bwd:  dx[ih, iw] = sum of g over covering outputs / (KH*KW)
//           bindings: 0 P, 1 g, 2 dx                  invocation (iw, ih, plane)
// Dispatch: workgroup (16, 4, 1); grid (ceil(cols/16), ceil(rows/4), min(planes, 65535)),
// planes beyond 65535 handled by a loop.

override KH: u32 = 2u;
override KW: u32 = 2u;
override SH: u32 = 2u;
override SW: u32 = 2u;
// at most this many windows cover an input cell along each axis
override CH: u32 = (KH + SH - 1u) / SH;
override CW: u32 = (KW + SW - 1u) / SW;

struct P {
  H: u32, W: u32, OH: u32, OW: u32,
  planes: u32, pad0: u32, pad1: u32, pad2: u32,
  ph: i32, pw: i32,
  inv: f32,
};

@group(0) @binding(0) var<uniform> p: P;

const ZMAX = 65535u;

// Range [lo, hi] of output indices along one axis whose windows cover input index i.
fn covering(i: u32, k: u32, s: u32, pd: i32, n: u32) -> vec2<i32> {
  let a = i32(i) + pd - i32(k) + 1;            // first output o with o*s >= a
  let lo = select(0, i32((u32(a) + s - 1u) / s), a > 0);
  let hi = min(i32(u32(i32(i) + pd) / s), i32(n) - 1);
  return vec2<i32>(lo, hi);
}

//#if MAX_FWD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<i32>;
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.OW || oh >= p.OH) { return; }
  let h0 = i32(oh * SH) - p.ph;
  let w0 = i32(ow * SW) - p.pw;
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let plane = pl * p.H * p.W;
    var best = 0.0;
    var bi = -1;
    for (var i = 0u; i < KH; i = i + 1u) {
      let ih = h0 + i32(i);
      if (ih < 0 || ih >= i32(p.H)) { continue; }
      for (var j = 0u; j < KW; j = j + 1u) {
        let iw = w0 + i32(j);
        if (iw < 0 || iw >= i32(p.W)) { continue; }
        let k = ih * i32(p.W) + iw;
        let v = x[plane + u32(k)];
        if (bi < 0 || v > best) { best = v; bi = k; }
      }
    }
    let o = (pl * p.OH + oh) * p.OW + ow;
    y[o] = select(-3.4028234663852886e38, best, bi >= 0);
    arg[o] = bi;
  }
}
//#endif

//#if MAX_BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> arg: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let iw = gid.x;
  let ih = gid.y;
  if (iw >= p.W || ih >= p.H) { return; }
  let me = i32(ih * p.W + iw);
  let rh = covering(ih, KH, SH, p.ph, p.OH);
  let rw = covering(iw, KW, SW, p.pw, p.OW);
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let obase = pl * p.OH * p.OW;
    var acc = 0.0;
    // constant trip counts (CH x CW), out-of-range candidates masked
    for (var a = 0u; a < CH; a = a + 1u) {
      let oh = rh.x + i32(a);
      for (var b = 0u; b < CW; b = b + 1u) {
        let ow = rw.x + i32(b);
        if (oh <= rh.y && ow <= rw.y) {
          let o = obase + u32(oh) * p.OW + u32(ow);
          if (arg[o] == me) { acc = acc + g[o]; }
        }
      }
    }
    dx[pl * p.H * p.W + u32(me)] = acc;
  }
}
//#endif

//#if AVG_FWD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.OW || oh >= p.OH) { return; }
  let h0 = i32(oh * SH) - p.ph;
  let w0 = i32(ow * SW) - p.pw;
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let plane = pl * p.H * p.W;
    var acc = 0.0;
    for (var i = 0u; i < KH; i = i + 1u) {
      let ih = h0 + i32(i);
      if (ih < 0 || ih >= i32(p.H)) { continue; }
      for (var j = 0u; j < KW; j = j + 1u) {
        let iw = w0 + i32(j);
        if (iw < 0 || iw >= i32(p.W)) { continue; }
        acc = acc + x[plane + u32(ih) * p.W + u32(iw)];
      }
    }
    y[(pl * p.OH + oh) * p.OW + ow] = acc * p.inv;
  }
}
//#endif

//#if AVG_BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let iw = gid.x;
  let ih = gid.y;
  if (iw >= p.W || ih >= p.H) { return; }
  let rh = covering(ih, KH, SH, p.ph, p.OH);
  let rw = covering(iw, KW, SW, p.pw, p.OW);
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let obase = pl * p.OH * p.OW;
    var acc = 0.0;
    for (var a = 0u; a < CH; a = a + 1u) {
      let oh = rh.x + i32(a);
      for (var b = 0u; b < CW; b = b + 1u) {
        let ow = rw.x + i32(b);
        let ok = oh <= rh.y && ow <= rw.y;
        acc = acc + select(0.0, g[obase + u32(min(oh, rh.y)) * p.OW + u32(min(ow, rw.y))], ok);
      }
    }
    dx[(pl * p.H + ih) * p.W + iw] = acc * p.inv;
  }
}
//#endif

// ---- 2x2 windows, stride 2, no padding, W % 4 == 0: one invocation per pair of outputs ----
// Invocation (j, oh, plane) reads the vec4 at columns 4j..4j+3 of input rows 2oh and 2oh+1
// and owns outputs (oh, 2j) and (oh, 2j+1) (OW = W/2 is even). The backward writes the same
// 2 x 4 input block (every input cell of a covered row belongs to exactly one window), and the
// last output row also zeroes input row 2*OH when H is odd (a row no window covers).
// Workgroup (8, 8, 1) over (W/4, OH, planes).

//#if MAX2_FWD
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> arg: array<vec2<i32>>;
// first maximum of (v0, v1, v2, v3) in that order: (value, position 0..3)
fn max4(v: vec4<f32>) -> vec2<f32> {
  var best = v.x;
  var k = 0.0;
  if (v.y > best) { best = v.y; k = 1.0; }
  if (v.z > best) { best = v.z; k = 2.0; }
  if (v.w > best) { best = v.w; k = 3.0; }
  return vec2<f32>(best, k);
}
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let oh = gid.y;
  let W4 = p.W / 4u;
  if (j >= W4 || oh >= p.OH) { return; }
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let r0 = (pl * p.H + 2u * oh) * W4 + j;
    let a = x[r0];
    let b = x[r0 + W4];
    let m0 = max4(vec4<f32>(a.x, a.y, b.x, b.y));
    let m1 = max4(vec4<f32>(a.z, a.w, b.z, b.w));
    // window position k -> plane index (2oh + k/2) * W + 4j + (k%2) [+2 for the second output]
    let base = i32(2u * oh * p.W + 4u * j);
    let k0 = i32(m0.y);
    let k1 = i32(m1.y);
    let i0 = base + (k0 / 2) * i32(p.W) + (k0 % 2);
    let i1 = base + (k1 / 2) * i32(p.W) + (k1 % 2) + 2;
    let o = (pl * p.OH + oh) * (W4) + j;
    y[o] = vec2<f32>(m0.x, m1.x);
    arg[o] = vec2<i32>(i0, i1);
  }
}
//#endif

//#if MAX2_BWD
@group(0) @binding(1) var<storage, read> g: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> arg: array<vec2<i32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4<f32>>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let oh = gid.y;
  let W4 = p.W / 4u;
  if (j >= W4 || oh >= p.OH) { return; }
  let base = i32(2u * oh * p.W + 4u * j);
  let cols = vec4<i32>(base, base + 1, base + 2, base + 3);
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let o = (pl * p.OH + oh) * W4 + j;
    let gv = g[o];
    let av = arg[o];
    let gg = vec4<f32>(gv.x, gv.x, gv.y, gv.y);
    let aa = vec4<i32>(av.x, av.x, av.y, av.y);
    let r0 = (pl * p.H + 2u * oh) * W4 + j;
    dx[r0] = select(vec4<f32>(0.0), gg, aa == cols);
    dx[r0 + W4] = select(vec4<f32>(0.0), gg, aa == cols + vec4<i32>(i32(p.W)));
    if (oh + 1u == p.OH && 2u * p.OH < p.H) { dx[r0 + 2u * W4] = vec4<f32>(0.0); }
  }
}
//#endif

//#if AVG2_FWD
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec2<f32>>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let oh = gid.y;
  let W4 = p.W / 4u;
  if (j >= W4 || oh >= p.OH) { return; }
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let r0 = (pl * p.H + 2u * oh) * W4 + j;
    let s = x[r0] + x[r0 + W4];
    y[(pl * p.OH + oh) * W4 + j] = vec2<f32>(s.x + s.y, s.z + s.w) * p.inv;
  }
}
//#endif

//#if AVG2_BWD
@group(0) @binding(1) var<storage, read> g: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec4<f32>>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let oh = gid.y;
  let W4 = p.W / 4u;
  if (j >= W4 || oh >= p.OH) { return; }
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let gv = g[(pl * p.OH + oh) * W4 + j] * p.inv;
    let v = vec4<f32>(gv.x, gv.x, gv.y, gv.y);
    let r0 = (pl * p.H + 2u * oh) * W4 + j;
    dx[r0] = v;
    dx[r0 + W4] = v;
    if (oh + 1u == p.OH && 2u * p.OH < p.H) { dx[r0 + 2u * W4] = vec4<f32>(0.0); }
  }
}
//#endif

// ---- 2x2 windows, stride 2, no padding, W even (W % 4 != 0): one invocation per output ----
// Invocation (ow, oh, plane) reads the vec2 at columns 2ow, 2ow+1 of input rows 2oh and 2oh+1.
// The backward writes that 2 x 2 block (and input row 2*OH when H is odd, from the last row).
// Workgroup (8, 8, 1) over (OW, OH, planes).

//#if MAXE_FWD
@group(0) @binding(1) var<storage, read> x: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<i32>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.OW || oh >= p.OH) { return; }
  let W2 = p.W / 2u;
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let r0 = (pl * p.H + 2u * oh) * W2 + ow;
    let a = x[r0];
    let b = x[r0 + W2];
    var best = a.x;
    var k = 0;
    if (a.y > best) { best = a.y; k = 1; }
    if (b.x > best) { best = b.x; k = 2; }
    if (b.y > best) { best = b.y; k = 3; }
    let o = (pl * p.OH + oh) * p.OW + ow;
    y[o] = best;
    arg[o] = i32(2u * oh * p.W + 2u * ow) + (k / 2) * i32(p.W) + (k % 2);
  }
}
//#endif

//#if MAXE_BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> arg: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec2<f32>>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.OW || oh >= p.OH) { return; }
  let W2 = p.W / 2u;
  let base = i32(2u * oh * p.W + 2u * ow);
  let cols = vec2<i32>(base, base + 1);
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let o = (pl * p.OH + oh) * p.OW + ow;
    let gg = vec2<f32>(g[o]);
    let aa = vec2<i32>(arg[o]);
    let r0 = (pl * p.H + 2u * oh) * W2 + ow;
    dx[r0] = select(vec2<f32>(0.0), gg, aa == cols);
    dx[r0 + W2] = select(vec2<f32>(0.0), gg, aa == cols + vec2<i32>(i32(p.W)));
    if (oh + 1u == p.OH && 2u * p.OH < p.H) { dx[r0 + 2u * W2] = vec2<f32>(0.0); }
  }
}
//#endif

//#if AVGE_FWD
@group(0) @binding(1) var<storage, read> x: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.OW || oh >= p.OH) { return; }
  let W2 = p.W / 2u;
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let r0 = (pl * p.H + 2u * oh) * W2 + ow;
    let s = x[r0] + x[r0 + W2];
    y[(pl * p.OH + oh) * p.OW + ow] = (s.x + s.y) * p.inv;
  }
}
//#endif

//#if AVGE_BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec2<f32>>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.OW || oh >= p.OH) { return; }
  let W2 = p.W / 2u;
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let v = vec2<f32>(g[(pl * p.OH + oh) * p.OW + ow] * p.inv);
    let r0 = (pl * p.H + 2u * oh) * W2 + ow;
    dx[r0] = v;
    dx[r0 + W2] = v;
    if (oh + 1u == p.OH && 2u * p.OH < p.H) { dx[r0 + 2u * W2] = vec2<f32>(0.0); }
  }
}
//#endif
