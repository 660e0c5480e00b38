// Index ops over a [rows, n] view.
//
// gather:  out[r] = x[r, idx[r]]                         bindings: 0 P, 1 x, 2 idx, 3 out
// gather_bwd: out[r, j] = g[r] if j == idx[r] else 0     bindings: 0 P, 1 g, 2 idx, 3 out
// one_hot: out[r, j] = 1 if j == idx[r] else 0           bindings: 0 P, 1 idx, 2 out
//   (GATHER_BWD and ONE_HOT give the bindings and hot(r); SCATTER, their entry point)
// Uniforms (//#params): IndexParams { rows, row_length (n), outputs (rows for gather, rows*n
// otherwise) }, declared in src/ops/indexing.ts.
// Dispatch: 1-D over the outputs, workgroup 256, grid folded into (x, y). Out-of-range indices
// give 0 (the launchers validate labels).

//#params
fn lin(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * 256u; }

//#if GATHER
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = lin(gid, nw);
  if (r >= p.outputs) { return; }
  let j = idx[r];
  out[r] = select(0.0, x[r * p.row_length + u32(j)], j >= 0 && u32(j) < p.row_length);
}
//#endif

//#if GATHER_BWD
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
fn hot(r: u32) -> f32 { return g[r]; }
//#endif

//#if ONE_HOT
@group(0) @binding(1) var<storage, read> idx: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
fn hot(r: u32) -> f32 { return 1.0; }
//#endif

//#if SCATTER
// With GATHER_BWD and ONE_HOT: out[r, j] = hot(r) where j == idx[r], else 0
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.outputs) { return; }
  let r = t / p.row_length;
  let j = t % p.row_length;
  out[t] = select(0.0, hot(r), idx[r] == i32(j));
}
//#endif
