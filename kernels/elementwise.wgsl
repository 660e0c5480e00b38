// Elementwise kernels, instantiated per op from the table in src/ops/elementwise.ts.
// The generator replaces EXPR (a WGSL expression) and keeps one entry point per template.
//
// unary:    out[i] = EXPR(x = a[i], alpha)                      bindings: 0 P, 1 a, 2 out
// binary:   out[i] = EXPR(x = a[ia], y = b[ib]) with broadcasting via strides
//           (stride 0 on broadcast dims); rank <= 8             bindings: 0 P, 1 a, 2 b, 3 out
// unary_bwd: dx[i] = EXPR(g = gr[i], x = a[i] or y = out[i])   bindings: 0 P, 1 gr, 2 a, 3 dx
// Dispatch: 1-D over n elements, workgroup 256, grid folded into (x, y) when n > 65535*256.
//
// vec4 variants (used when every operand's element count is a multiple of 4; slices start at
// 256-byte aligned offsets, so vec4 indexing is always aligned). P.n = number of vec4s; each
// invocation handles K vec4s (override constant), workgroup w covering vec4s
// [w*256*K, (w+1)*256*K) with invocation l taking l, l+256, ... so neighbouring lanes touch
// neighbouring memory. EXPR is the same table expression with float literals wrapped as T(..),
// T = vec4<f32>. Dispatch: grid(ceil(n4 / K), 256).
// unary4 / unary_bwd4 / binary4 (same shapes): as above on vec4s.
// binary4 with one broadcast operand (bc4_a: a broadcast, bc4_b: b broadcast): the full
//   operand is array<vec4<f32>>, the broadcast one array<f32> read at
//   s = ((4 i) / inner) % count (P.shape[0].x = inner, .y = count) and lanes s + k * step
//   (P.shape[0].z = step; .w = 1024 % inner and P.shape[1].x = (1024 / inner) % count let each
//   lane step s from one of its vec4s to the next without dividing): row broadcast [.., N] (+) [N] is inner 1, count N, step 1 (N % 4 == 0);
//   channel broadcast [B, C, H, W] (+) [1, C, 1, 1] is inner H*W (% 4 == 0), count C, step 0.

struct P {
  n: u32, rank: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>,
  astr: array<vec4<u32>, 2>,
  bstr: array<vec4<u32>, 2>,
  alpha: f32, beta: f32,
};

@group(0) @binding(0) var<uniform> p: P;

//#if UNARY
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n) { return; }
  let x = a[i];
  let alpha = p.alpha;
  let beta = p.beta;
  out[i] = EXPR;
}
//#endif

//#if UNARY_BWD
@group(0) @binding(1) var<storage, read> gr: array<f32>;
@group(0) @binding(2) var<storage, read> sv: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n) { return; }
  let g = gr[i];
  let x = sv[i];
  let y = x;
  let alpha = p.alpha;
  let beta = p.beta;
  dx[i] = EXPR;
}
//#endif

//#if BINARY
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n) { return; }
  var ia = 0u;
  var ib = 0u;
  if (p.rank == 0u) {
    ia = i; ib = i;              // same shapes: contiguous fast path
  } else {
    var rem = i;
    for (var k = i32(p.rank) - 1; k >= 0; k = k - 1) {
      let d = p.shape[k / 4][k % 4];
      let c = rem % d;
      rem = rem / d;
      ia = ia + c * p.astr[k / 4][k % 4];
      ib = ib + c * p.bstr[k / 4][k % 4];
    }
  }
  let x = a[ia];
  let y = b[ib];
  let alpha = p.alpha;
  out[i] = EXPR;
}
//#endif

//#if VEC4
alias T = vec4<f32>;
override K: u32 = 4u;
fn first(wid: vec3<u32>, nw: vec3<u32>, lid: u32) -> u32 { return (wid.x + wid.y * nw.x) * 256u * K + lid; }
//#endif

//#if UNARY4
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  let alpha = p.alpha;
  let beta = p.beta;
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    let x = a[i];
    out[i] = EXPR;
  }
}
//#endif

//#if UNARY_BWD4
@group(0) @binding(1) var<storage, read> gr: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> sv: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  let alpha = p.alpha;
  let beta = p.beta;
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    let g = gr[i];
    let x = sv[i];
    let y = x;
    dx[i] = EXPR;
  }
}
//#endif

//#if BINARY4
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  let alpha = p.alpha;
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    let x = a[i];
    let y = b[i];
    out[i] = EXPR;
  }
}
//#endif

//#if BC4_A
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> f: array<vec4<f32>>;
//#endif
//#if BC4_B
@group(0) @binding(1) var<storage, read> f: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
//#endif

//#if BC4
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  let alpha = p.alpha;
  let inner = p.shape[0].x;
  let count = p.shape[0].y;
  let st = p.shape[0].z;
  let dr = p.shape[0].w;   // 1024 % inner: how far the next vec4 of this lane moves in `inner`
  let dq = p.shape[1].x;   // (1024 / inner) % count: and in `count`
  // divide once per invocation, then step (integer division is slow on CPUs)
  var r = (4u * i0) % inner;
  var k = ((4u * i0) / inner) % count;
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    if (j > 0u) {
      r = r + dr;
      var carry = 0u;
      if (r >= inner) { r = r - inner; carry = 1u; }
      k = k + dq + carry;
      if (k >= count) { k = k - count; }
    }
    let fv = f[i];
    let sv = vec4<f32>(s[k], s[k + st], s[k + 2u * st], s[k + 3u * st]);
    let x = XV;
    let y = YV;
    out[i] = EXPR;
  }
}
//#endif
