// 2-D pooling over NCHW planes (N*C planes of H x W, output OH x OW).
// Window of output (oh, ow): rows oh*SH - ph .. + KH - 1, cols ow*SW - pw .. + KW - 1;
// cells outside the input are padding (-inf for max, 0 counted in the divisor for avg).
//
// Uniforms (//#params): PoolParams, declared in src/ops/pool.ts, for every kernel: in_h, in_w
// (H, W), out_h, out_w (OH, OW), planes (N*C), pad_h, pad_w (ph, pw; i32), inv_window
// (1 / (KH*KW), f32). Window size and stride are override constants (see WINDOW_* below).
//
// Instantiated from blocks (src/ops/pool.ts), one of each line:
//   layout   SCALAR | PAIR4 | PAIR2      element types: XV of x and dx, YV of y and g, IV of arg
//   rule     MAX | AVG (forward), MAX_GRAD | AVG_GRAD (backward)
//   index    ARG_OUT | NO_ARG            max forward only: write arg (grad needed) or not
//   body     FWD + WINDOW_FWD, BWD + WINDOW_BWD (SCALAR); FWD + PAIR_FWD + PAIR,
//            BWD + PAIR_BWD + PAIR (PAIR4, PAIR2)
// Bindings: forward  0 P, 1 x, 2 y [, 3 arg (i32): max with ARG_OUT]
//           backward 0 P, 1 g, 2 dx [, 3 arg: max]
//
// Rules (the same in every layout):
// max: y = the first maximum of the window in row-major order (strict >, so ties go to the
//      earliest cell), arg = its plane index ih*W + iw; dx[cell] = sum of g over the outputs
//      whose arg is that cell: a gather, no atomics, deterministic. NaN as in PyTorch's
//      max_pool2d (`val > maxval || isnan(val)`): every NaN is taken, so y is NaN and arg the
//      window's last NaN (is_nan tests the bits: compilers may assume v != v is false).
// avg: y = sum of the window in row-major order / (KH*KW) (count_include_pad, PyTorch's
//      default); dx[cell] = sum of g over the windows covering the cell / (KH*KW).
//
// WINDOW_* (any window): kernel size and stride are pipeline-overridable constants (one
// pipeline per window shape: divisions by them compile to multiplies; integer division by a
// uniform is slow on CPU adapters), and the dispatch is 3-D so no invocation divides to find
// its coordinates. Invocation (ow, oh, plane) forward, (iw, ih, plane) backward.
// Workgroup (16, 4, 1); grid (ceil(cols/16), ceil(rows/4), min(planes, 65535)), planes beyond
// 65535 handled by a loop.
//
// PAIR (2x2 windows, stride 2, no padding; PAIR4: W % 4 == 0, PAIR2: W even): invocation
// (j, oh, plane) reads unit j of input rows 2oh and 2oh+1 (PAIR4: vec4, columns 4j..4j+3;
// PAIR2: vec2, columns 2j, 2j+1) and owns the outputs (oh, 2j), (oh, 2j+1) (PAIR4, the two
// lanes of YV) or (oh, j) (PAIR2). The backward writes the same 2-row block (every cell of a
// covered row belongs to exactly one window), and the last output row also zeroes input row
// 2*OH when H is odd (a row no window covers).
// Workgroup (8, 8, 1); grid (ceil(W/UNIT/8), ceil(OH/8), min(planes, 65535)).

override KH: u32 = 2u;
override KW: u32 = 2u;
override SH: u32 = 2u;
override SW: u32 = 2u;
// at most this many windows cover an input cell along each axis
override CH: u32 = (KH + SH - 1u) / SH;
override CW: u32 = (KW + SW - 1u) / SW;

//#params

const ZMAX = 65535u;

// ---- layouts: XV holds input cells (XI their plane indices), YV outputs (IV their args) ----
// even/odd: the lanes' left/right window columns of a unit; spread: an output lane's value
// on each of its columns.

//#if SCALAR
alias XV = f32;
alias XI = i32;
alias YV = f32;
alias IV = i32;
fn spread(v: YV) -> XV { return v; }
fn spread_i(v: IV) -> XI { return v; }
fn is_nan(v: YV) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
//#endif

//#if PAIR4
alias XV = vec4<f32>;
alias XI = vec4<i32>;
alias YV = vec2<f32>;
alias IV = vec2<i32>;
const UNIT = 4u;
const LANE = IV(0, 2);
const CELL = XI(0, 1, 2, 3);
fn even(v: XV) -> YV { return v.xz; }
fn odd(v: XV) -> YV { return v.yw; }
fn spread(v: YV) -> XV { return v.xxyy; }
fn spread_i(v: IV) -> XI { return v.xxyy; }
fn is_nan(v: YV) -> vec2<bool> { return (bitcast<vec2<u32>>(v) & vec2<u32>(0x7fffffffu)) > vec2<u32>(0x7f800000u); }
//#endif

//#if PAIR2
alias XV = vec2<f32>;
alias XI = vec2<i32>;
alias YV = f32;
alias IV = i32;
const UNIT = 2u;
const LANE = IV(0);
const CELL = XI(0, 1);
fn even(v: XV) -> YV { return v.x; }
fn odd(v: XV) -> YV { return v.y; }
fn spread(v: YV) -> XV { return XV(v); }
fn spread_i(v: IV) -> XI { return XI(v); }
fn is_nan(v: YV) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
//#endif

//#if FWD
@group(0) @binding(1) var<storage, read> x: array<XV>;
@group(0) @binding(2) var<storage, read_write> y: array<YV>;
//#endif

//#if BWD
@group(0) @binding(1) var<storage, read> g: array<YV>;
@group(0) @binding(2) var<storage, read_write> dx: array<XV>;
//#endif

// ---- rules. Forward: an accumulator over the window's cells in row-major order (acc_take gets
// each cell's value and plane index). Backward: what output o holds (out_at: its gradient, and
// its argmax for max, spread over the cells of a unit), the part of it that goes to each cell
// of `me` (grad_to), and the final scale of a cell's sum (grad_done). ----

//#if MAX
struct Acc { best: YV, at: IV, };
fn acc_start() -> Acc { return Acc(YV(0.0), IV(-1)); }
fn acc_take(a: ptr<function, Acc>, v: YV, k: IV) {
  let take = ((*a).at < IV(0)) | (v > (*a).best) | is_nan(v);
  (*a).best = select((*a).best, v, take);
  (*a).at = select((*a).at, k, take);
}
fn acc_store(o: u32, a: Acc) {
  y[o] = select(YV(-3.4028234663852886e38), a.best, a.at >= IV(0));
  put_arg(o, a.at);
}
//#endif

//#if ARG_OUT
@group(0) @binding(3) var<storage, read_write> arg: array<IV>;
fn put_arg(o: u32, k: IV) { arg[o] = k; }
//#endif

//#if NO_ARG
fn put_arg(o: u32, k: IV) {}
//#endif

//#if AVG
struct Acc { sum: YV, };
fn acc_start() -> Acc { return Acc(YV(0.0)); }
fn acc_take(a: ptr<function, Acc>, v: YV, k: IV) { (*a).sum = (*a).sum + v; }
fn acc_store(o: u32, a: Acc) { y[o] = a.sum * p.inv_window; }
//#endif

//#if MAX_GRAD
@group(0) @binding(3) var<storage, read> arg: array<IV>;
struct Out { g: XV, at: XI, };
fn out_at(o: u32) -> Out { return Out(spread(g[o]), spread_i(arg[o])); }
fn grad_to(u: Out, me: XI) -> XV { return select(XV(0.0), u.g, u.at == me); }
fn grad_done(v: XV) -> XV { return v; }
//#endif

//#if AVG_GRAD
struct Out { g: XV, };
fn out_at(o: u32) -> Out { return Out(spread(g[o])); }
fn grad_to(u: Out, me: XI) -> XV { return u.g; }
fn grad_done(v: XV) -> XV { return v * p.inv_window; }
//#endif

// ---- bodies ----

//#if WINDOW_FWD
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = gid.x;
  let oh = gid.y;
  if (ow >= p.out_w || oh >= p.out_h) { return; }
  let h0 = i32(oh * SH) - p.pad_h;
  let w0 = i32(ow * SW) - p.pad_w;
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let plane = pl * p.in_h * p.in_w;
    var acc = acc_start();
    for (var i = 0u; i < KH; i = i + 1u) {
      let ih = h0 + i32(i);
      if (ih < 0 || ih >= i32(p.in_h)) { continue; }
      for (var j = 0u; j < KW; j = j + 1u) {
        let iw = w0 + i32(j);
        if (iw < 0 || iw >= i32(p.in_w)) { continue; }
        let k = ih * i32(p.in_w) + iw;
        acc_take(&acc, x[plane + u32(k)], k);
      }
    }
    acc_store((pl * p.out_h + oh) * p.out_w + ow, acc);
  }
}
//#endif

//#if WINDOW_BWD
// Range [lo, hi] of output indices along one axis whose windows cover input index i.
fn covering(i: u32, k: u32, s: u32, pd: i32, n: u32) -> vec2<i32> {
  let a = i32(i) + pd - i32(k) + 1;            // first output o with o*s >= a
  let lo = select(0, i32((u32(a) + s - 1u) / s), a > 0);
  let hi = min(i32(u32(i32(i) + pd) / s), i32(n) - 1);
  return vec2<i32>(lo, hi);
}
@compute @workgroup_size(16, 4, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let iw = gid.x;
  let ih = gid.y;
  if (iw >= p.in_w || ih >= p.in_h) { return; }
  let me = i32(ih * p.in_w + iw);
  let rh = covering(ih, KH, SH, p.pad_h, p.out_h);
  let rw = covering(iw, KW, SW, p.pad_w, p.out_w);
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    let obase = pl * p.out_h * p.out_w;
    var acc = 0.0;
    // constant trip counts (CH x CW); out-of-range candidates read a clamped (covering) output
    // and are masked
    for (var a = 0u; a < CH; a = a + 1u) {
      let oh = rh.x + i32(a);
      for (var b = 0u; b < CW; b = b + 1u) {
        let ow = rw.x + i32(b);
        let o = obase + u32(min(oh, rh.y)) * p.out_w + u32(min(ow, rw.y));
        acc = acc + select(0.0, grad_to(out_at(o), me), oh <= rh.y && ow <= rw.y);
      }
    }
    dx[pl * p.in_h * p.in_w + u32(me)] = grad_done(acc);
  }
}
//#endif

//#if PAIR_FWD
fn pair_step(r0: u32, o: u32, U: u32, k0: i32, oh: u32) {
  let a = x[r0];
  let b = x[r0 + U];
  let k = k0 + LANE;    // plane index of each lane's top-left cell
  let dk = i32(p.in_w);
  var acc = acc_start();
  acc_take(&acc, even(a), k);
  acc_take(&acc, odd(a), k + 1);
  acc_take(&acc, even(b), k + dk);
  acc_take(&acc, odd(b), k + dk + 1);
  acc_store(o, acc);
}
//#endif

//#if PAIR_BWD
fn pair_step(r0: u32, o: u32, U: u32, k0: i32, oh: u32) {
  let cells = k0 + CELL;    // plane indices of the unit's cells in the top row
  let u = out_at(o);
  dx[r0] = grad_done(grad_to(u, cells));
  dx[r0 + U] = grad_done(grad_to(u, cells + i32(p.in_w)));
  if (oh + 1u == p.out_h && 2u * p.out_h < p.in_h) { dx[r0 + 2u * U] = XV(0.0); }
}
//#endif

//#if PAIR
// r0: unit j of input row 2oh (x or dx), o: output unit j of row oh (y or g), U: units per
// input row, k0: plane index of the unit's first cell.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let oh = gid.y;
  let U = p.in_w / UNIT;
  if (j >= U || oh >= p.out_h) { return; }
  let k0 = i32(2u * oh * p.in_w + UNIT * j);
  for (var pl = gid.z; pl < p.planes; pl = pl + ZMAX) {
    pair_step((pl * p.in_h + 2u * oh) * U + j, (pl * p.out_h + oh) * U + j, U, k0, oh);
  }
}
//#endif
