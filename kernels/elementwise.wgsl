// Elementwise kernels, instantiated per op from the table in src/ops/elementwise.ts.
// The generator replaces EXPR (a WGSL expression in x, y, g, z, alpha, beta) and picks one
// width block (entry point), one operand block (bindings and how operands are read) and,
// for the flat operand blocks, FLAT. Uniforms (//#params): EwFlat { n, alpha, beta },
// EwStrided { n, rank, shape, astr, bstr, alpha, beta } or EwBroadcast { n, inner, count,
// step, inner_step, count_step, alpha, beta }, declared in src/ops/elementwise-kernels.ts.
//
//   width  SCALAR  one f32 per invocation (E = f32); dispatch 1-D over n, workgroup 256,
//                  grid folded into (x, y) when n > 65535*256.
//          VEC4    K vec4s per invocation (override K; E = T = vec4<f32>; used when every
//                  operand's element count is a multiple of 4; slices start at 256-byte
//                  aligned offsets, so vec4 indexing is always aligned). p.n = number of
//                  vec4s; workgroup w covers vec4s [w*256*K, (w+1)*256*K) with invocation l
//                  taking l, l+256, ... so neighbouring lanes touch neighbouring memory.
//                  EXPR is the table expression with float literals wrapped as T(..).
//                  Dispatch: grid(ceil(n4 / K), 256).
//   operands (x, y, g, z of EXPR)                                   bindings
//          UNARY      out[i] = EXPR(x = a[i], alpha, beta)          0 P, 1 a, 2 out     (EwFlat)
//          UNARY_BWD  out[i] = EXPR(g = gr[i], x = y = sv[i])        0 P, 1 gr, 2 sv, 3 out (EwFlat)
//                     (sv is the saved input x or output y)
//          BINARY     out[i] = EXPR(x = a[i], y = b[i])             0 P, 1 a, 2 b, 3 out (EwFlat)
//                     (same shapes; with VEC4)
//          STRIDED    out[i] = EXPR(x = a[ia], y = b[ib]) with broadcasting via strides
//                     (stride 0 on broadcast dims, p.rank <= 8; p.rank = 0: same shapes,
//                     ia = ib = i); with SCALAR                     0 P, 1 a, 2 b, 3 out (EwStrided)
//          BC4_A / BC4_B + BC4 (with VEC4): binary with one broadcast operand (BC4_A: a
//                     broadcast, BC4_B: b broadcast): the full operand f is array<vec4<f32>>,
//                     the broadcast one s array<f32> read at s = ((4 i) / inner) % count
//                     and lanes s + k * step (p.inner_step = 1024 % inner and p.count_step =
//                     (1024 / inner) % count let each lane step s from one of its vec4s to
//                     the next without dividing): row broadcast [.., N] (+) [N] is inner 1,
//                     count N, step 1 (N % 4 == 0); channel broadcast [B, C, H, W] (+)
//                     [1, C, 1, 1] is inner H*W (% 4 == 0), count C, step 0.
//                     XV / YV name which of fv, sv is x and y.  0 P, 1 s|f, 2 f|s, 3 out (EwBroadcast)
//          GRAD       a binary op's operand gradient: out[i] = EXPR(g = gr[i], x = a[.], y = b[.],
//                     z = zo[i]) where z is the op's saved output; x and y broadcast like the
//                     forward's operands: with SCALAR + STRIDED_AT (strides, EwStrided), VEC4 +
//                     FLAT (same shapes, EwFlat) or VEC4 + BC4_AT (one broadcast operand,
//                     EwBroadcast). The generator writes GRAD_DECLS, the bindings of the
//                     operands EXPR names only (gr first, then those of a, b, zo it uses, then
//                     out, numbered from 1), and XL, YL, ZL, their loads (E() for the unused).
//
// BC4_AT's lanes() reads the broadcast operand named by SBUF.
// Each operand block gives operands(i, c) -> Ops, and with its address block at(i) (the
// state c of the invocation's first element) and next(c) (VEC4: the state of the lane's
// next vec4, i + 256): the broadcast position for BC4, the operand indices for STRIDED,
// nothing for FLAT.

//#params

// The table expressions may call is_nan(v) (bool, or vec4<bool> in VEC4).
// The operands of the table expression: x, y (the second operand; unary: the saved value
// again, so that backward rules can name it x or y), g (backward: the upstream gradient),
// z (a binary op's output, for its backward rules).
struct Ops { x: E, y: E, g: E, z: E };

// NaN test on the bits (robust to compilers that assume no NaNs): exponent all ones, mantissa not 0
fn is_nan(v: E) -> B { return (bitcast<U>(v) & U(0x7fffffffu)) > U(0x7f800000u); }

fn apply(o: Ops) -> E {
  let x = o.x;
  let y = o.y;
  let g = o.g;
  let z = o.z;
  let alpha = p.alpha;
  let beta = p.beta;
  return EXPR;
}

//#if SCALAR
alias E = f32;
alias U = u32;
alias B = bool;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n) { return; }
  out[i] = apply(operands(i, at(i)));
}
//#endif

//#if VEC4
alias E = vec4<f32>;
alias U = vec4<u32>;
alias B = vec4<bool>;
alias T = vec4<f32>;
override K: u32 = 4u;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = (wid.x + wid.y * nw.x) * 256u * K + lid;
  var c = at(i0);
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    if (j > 0u) { c = next(c); }
    out[i] = apply(operands(i, c));
  }
}
//#endif

//#if FLAT
// operands read at the output's index: no state
fn at(i: u32) -> u32 { return 0u; }
fn next(c: u32) -> u32 { return c; }
//#endif

//#if UNARY
@group(0) @binding(1) var<storage, read> a: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;
fn operands(i: u32, c: u32) -> Ops { let x = a[i]; return Ops(x, x, E(), E()); }
//#endif

//#if UNARY_BWD
@group(0) @binding(1) var<storage, read> gr: array<E>;
@group(0) @binding(2) var<storage, read> sv: array<E>;
@group(0) @binding(3) var<storage, read_write> out: array<E>;
fn operands(i: u32, c: u32) -> Ops { let g = gr[i]; let s = sv[i]; return Ops(s, s, g, E()); }
//#endif

//#if BINARY
@group(0) @binding(1) var<storage, read> a: array<E>;
@group(0) @binding(2) var<storage, read> b: array<E>;
@group(0) @binding(3) var<storage, read_write> out: array<E>;
fn operands(i: u32, c: u32) -> Ops { return Ops(a[i], b[i], E(), E()); }
//#endif

//#if STRIDED_AT
// (ia, ib): the operands' element indices for output element i
fn at(i: u32) -> vec2<u32> {
  if (p.rank == 0u) { return vec2<u32>(i); }   // same shapes: contiguous fast path
  var ia = 0u;
  var ib = 0u;
  var rem = i;
  for (var k = i32(p.rank) - 1; k >= 0; k = k - 1) {
    let d = p.shape[k / 4][k % 4];
    let c = rem % d;
    rem = rem / d;
    ia = ia + c * p.astr[k / 4][k % 4];
    ib = ib + c * p.bstr[k / 4][k % 4];
  }
  return vec2<u32>(ia, ib);
}
//#endif

//#if STRIDED
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
fn operands(i: u32, c: vec2<u32>) -> Ops { return Ops(a[c.x], b[c.y], E(), E()); }
//#endif

//#if BC4_A
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> f: array<vec4<f32>>;
//#endif
//#if BC4_B
@group(0) @binding(1) var<storage, read> f: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
//#endif

//#if BC4_AT
// (r, k) = ((4 i) % inner, ((4 i) / inner) % count): where vec4 i stands in the broadcast operand
fn at(i: u32) -> vec2<u32> {
  return vec2<u32>((4u * i) % p.inner, ((4u * i) / p.inner) % p.count);
}
// (r, k) of vec4 i + 256 from that of i: divide once per invocation, then step (integer
// division is slow on CPUs)
fn next(c: vec2<u32>) -> vec2<u32> {
  var r = c.x + p.inner_step;   // 1024 % inner: how far the next vec4 of this lane moves in `inner`
  var carry = 0u;
  if (r >= p.inner) { r = r - p.inner; carry = 1u; }
  var k = c.y + p.count_step + carry;   // (1024 / inner) % count: and in `count`
  if (k >= p.count) { k = k - p.count; }
  return vec2<u32>(r, k);
}
// the broadcast operand SBUF's four lanes for the vec4 at state c
fn lanes(c: vec2<u32>) -> vec4<f32> {
  let st = p.step;
  let k = c.y;
  return vec4<f32>(SBUF[k], SBUF[k + st], SBUF[k + 2u * st], SBUF[k + 3u * st]);
}
//#endif

//#if BC4
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
fn operands(i: u32, c: vec2<u32>) -> Ops {
  let fv = f[i];
  let sv = lanes(c);
  return Ops(XV, YV, E(), E());
}
//#endif

//#if GRAD
GRAD_DECLS
fn operands(i: u32, c: CT) -> Ops { return Ops(XL, YL, gr[i], ZL); }
//#endif
