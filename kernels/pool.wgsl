// 2-D pooling over NCHW planes (P.planes = N*C planes of H x W, output OH x OW).
// Window of output (oh, ow): rows oh*sh - ph .. + kh - 1, cols ow*sw - pw .. + kw - 1;
// cells outside the input are padding (-inf for max, 0 counted in the divisor for avg).
//
// max_fwd:  y = max over the window, arg = ih*W + iw of the first maximum in row-major
//           window order (strict >, so ties go to the earliest cell; NaN wins)
//           bindings: 0 P, 1 x, 2 y, 3 arg(i32)       one invocation per output
// max_bwd:  dx[ih, iw] = sum of g over the outputs whose window covers (ih, iw) and whose
//           arg is (ih, iw): a gather, no atomics, deterministic
//           bindings: 0 P, 1 g, 2 arg, 3 dx           one invocation per input
// avg_fwd:  y = sum over the window / (kh*kw)   (count_include_pad, PyTorch's default)
//           bindings: 0 P, 1 x, 2 y                   one invocation per output
// avg_bwd:  dx[ih, iw] = sum of g over covering outputs / (kh*kw)
//           bindings: 0 P, 1 g, 2 dx                  one invocation per input
// Dispatch: 1-D, workgroup 256, grid folded into (x, y).

struct P {
  total: u32, H: u32, W: u32, OH: u32,
  OW: u32, kh: u32, kw: u32, sh: u32,
  sw: u32, pad0: u32, pad1: u32, pad2: u32,
  ph: i32, pw: i32,
  inv: f32,
};

@group(0) @binding(0) var<uniform> p: P;

fn lin(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * 256u; }

// Range [lo, hi] of output indices along one axis whose windows cover input index i.
fn covering(i: i32, k: u32, s: u32, pd: i32, n: u32) -> vec2<i32> {
  let a = i + pd - i32(k) + 1;                // first window start <= i means o*s >= a
  let lo = select(0, (a + i32(s) - 1) / i32(s), a > 0);
  let hi = min((i + pd) / i32(s), i32(n) - 1);
  return vec2<i32>(lo, hi);
}

//#if MAX_FWD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<i32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.total) { return; }
  let ow = t % p.OW;
  let r = t / p.OW;
  let oh = r % p.OH;
  let plane = (r / p.OH) * p.H * p.W;
  let h0 = i32(oh * p.sh) - p.ph;
  let w0 = i32(ow * p.sw) - p.pw;
  var best = -3.4028234663852886e38;
  var found = false;
  var bi = -1;
  for (var i = 0u; i < p.kh; i = i + 1u) {
    let ih = h0 + i32(i);
    if (ih < 0 || ih >= i32(p.H)) { continue; }
    for (var j = 0u; j < p.kw; j = j + 1u) {
      let iw = w0 + i32(j);
      if (iw < 0 || iw >= i32(p.W)) { continue; }
      let k = ih * i32(p.W) + iw;
      let v = x[plane + u32(k)];
      if (!found || v > best || (v != v && best == best)) { best = v; bi = k; found = true; }
    }
  }
  y[t] = best;
  arg[t] = bi;
}
//#endif

//#if MAX_BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> arg: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.total) { return; }
  let iw = i32(t % p.W);
  let r = t / p.W;
  let ih = i32(r % p.H);
  let obase = (r / p.H) * p.OH * p.OW;
  let me = ih * i32(p.W) + iw;
  let rh = covering(ih, p.kh, p.sh, p.ph, p.OH);
  let rw = covering(iw, p.kw, p.sw, p.pw, p.OW);
  var acc = 0.0;
  for (var oh = rh.x; oh <= rh.y; oh = oh + 1) {
    for (var ow = rw.x; ow <= rw.y; ow = ow + 1) {
      let o = obase + u32(oh) * p.OW + u32(ow);
      if (arg[o] == me) { acc = acc + g[o]; }
    }
  }
  dx[t] = acc;
}
//#endif

//#if AVG_FWD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.total) { return; }
  let ow = t % p.OW;
  let r = t / p.OW;
  let oh = r % p.OH;
  let plane = (r / p.OH) * p.H * p.W;
  let h0 = i32(oh * p.sh) - p.ph;
  let w0 = i32(ow * p.sw) - p.pw;
  var acc = 0.0;
  for (var i = 0u; i < p.kh; i = i + 1u) {
    let ih = h0 + i32(i);
    if (ih < 0 || ih >= i32(p.H)) { continue; }
    for (var j = 0u; j < p.kw; j = j + 1u) {
      let iw = w0 + i32(j);
      if (iw < 0 || iw >= i32(p.W)) { continue; }
      acc = acc + x[plane + u32(ih) * p.W + u32(iw)];
    }
  }
  y[t] = acc * p.inv;
}
//#endif

//#if AVG_BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.total) { return; }
  let iw = i32(t % p.W);
  let r = t / p.W;
  let ih = i32(r % p.H);
  let obase = (r / p.H) * p.OH * p.OW;
  let rh = covering(ih, p.kh, p.sh, p.ph, p.OH);
  let rw = covering(iw, p.kw, p.sw, p.pw, p.OW);
  var acc = 0.0;
  for (var oh = rh.x; oh <= rh.y; oh = oh + 1) {
    for (var ow = rw.x; ow <= rw.y; ow = ow + 1) {
      acc = acc + g[obase + u32(oh) * p.OW + u32(ow)];
    }
  }
  dx[t] = acc * p.inv;
}
//#endif
