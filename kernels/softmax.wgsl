// Row-wise softmax / log-softmax over the last dimension of a [rows, n] view,
// stable for large |logits| (subtract the row max; log-softmax is x - max - log Σexp).
//
// FWD  forward:   y = softmax(x) or log_softmax(x)             bindings: 0 P, 1 x, 2 y
// BWD  backward:  softmax:     dx = y ⊙ (g − Σ g⊙y)
//                 log-softmax: dx = g − exp(y) · Σ g           bindings: 0 P, 1 g, 2 y, 3 dx
// Uniforms (//#params): SoftmaxParams { rows, row_length }, declared in src/ops/softmax.ts.
// Override LOG = 1: log-softmax. One entry point; the block's rowOp(base) does the row whose
// row_length entries start at base.
// Dispatch: one invocation per row, workgroup 64, grid folded into (x, y).
// Rows are independent; each invocation walks its row (what lavapipe runs well).

//#params
override LOG: u32 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = gid.x + gid.y * nw.x * 64u;
  if (r >= p.rows) { return; }
  rowOp(r * p.row_length);
}

//#if FWD
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
fn rowOp(base: u32) {
  var m = x[base];
  for (var j = 1u; j < p.row_length; j = j + 1u) { m = max(m, x[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.row_length; j = j + 1u) { s = s + exp(x[base + j] - m); }
  if (LOG == 1u) {
    let ls = log(s);
    for (var j = 0u; j < p.row_length; j = j + 1u) { y[base + j] = x[base + j] - m - ls; }
  } else {
    let inv = 1.0 / s;
    for (var j = 0u; j < p.row_length; j = j + 1u) { y[base + j] = exp(x[base + j] - m) * inv; }
  }
}
//#endif

//#if BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
fn rowOp(base: u32) {
  var s = 0.0;
  if (LOG == 1u) {
    for (var j = 0u; j < p.row_length; j = j + 1u) { s = s + g[base + j]; }
    for (var j = 0u; j < p.row_length; j = j + 1u) { dx[base + j] = g[base + j] - exp(y[base + j]) * s; }
  } else {
    for (var j = 0u; j < p.row_length; j = j + 1u) { s = s + g[base + j] * y[base + j]; }
    for (var j = 0u; j < p.row_length; j = j + 1u) { dx[base + j] = y[base + j] * (g[base + j] - s); }
  }
}
//#endif
