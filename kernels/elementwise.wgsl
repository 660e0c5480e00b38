// Elementwise kernels, instantiated per op from the table in src/ops/elementwise.ts.
// The generator replaces EXPR (a WGSL expression) and keeps one entry point per template.
//
// unary:    out[i] = EXPR(x = a[i], alpha)                      bindings: 0 P, 1 a, 2 out
// binary:   out[i] = EXPR(x = a[ia], y = b[ib]) with broadcasting via strides
//           (stride 0 on broadcast dims); rank <= 8             bindings: 0 P, 1 a, 2 b, 3 out
// unary_bwd: dx[i] = EXPR(g = gr[i], x = a[i] or y = out[i])   bindings: 0 P, 1 gr, 2 a, 3 dx
// Dispatch: 1-D over n elements, workgroup 256, grid folded into (x, y) when n > 65535*256.

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
