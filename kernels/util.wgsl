// Utility kernels: fill, accumulate (in place), and reduce-to-shape (the
// gradient of broadcasting). 1-D dispatch, workgroup 256, grid folded into (x, y).
//
// fill:        out[i] = value                                   bindings: 0 P, 1 out
// fill4 / accumulate4: the same on array<vec4<f32>> (P.n = vec4 count, multiple-of-4 sizes),
//   each invocation handling K vec4s (override), lanes interleaved; dispatch grid(ceil(n4/K), 256).
// accumulate:  dst[i] += src[i]                                 bindings: 0 P, 1 src, 2 dst
// reduce_to:   out[o] = sum over the broadcast dims of g, for output index o.
//   P.shape = output shape padded to rank (1 on reduced dims), P.astr = g strides of
//   the kept dims, P.rshape/P.rstr = sizes and g strides of the reduced dims.
//                                                               bindings: 0 P, 1 g, 2 out

struct P {
  n: u32, rank: u32, rcount: u32, rrank: u32,
  shape: array<vec4<u32>, 2>,
  astr: array<vec4<u32>, 2>,
  rshape: array<vec4<u32>, 2>,
  rstr: array<vec4<u32>, 2>,
  value: f32,
};

@group(0) @binding(0) var<uniform> p: P;

fn idx(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * 256u; }

//#if FILL
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = idx(gid, nw);
  if (i >= p.n) { return; }
  out[i] = p.value;
}
//#endif

//#if ACCUMULATE
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = idx(gid, nw);
  if (i >= p.n) { return; }
  dst[i] = dst[i] + src[i];
}
//#endif

//#if REDUCE_TO
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = idx(gid, nw);
  if (o >= p.n) { return; }
  var base = 0u;
  var rem = o;
  for (var k = i32(p.rank) - 1; k >= 0; k = k - 1) {
    let d = p.shape[k / 4][k % 4];
    base = base + (rem % d) * p.astr[k / 4][k % 4];
    rem = rem / d;
  }
  var acc = 0.0;
  for (var j = 0u; j < p.rcount; j = j + 1u) {
    var off = base;
    var r = j;
    for (var k = i32(p.rrank) - 1; k >= 0; k = k - 1) {
      let d = p.rshape[k / 4][k % 4];
      off = off + (r % d) * p.rstr[k / 4][k % 4];
      r = r / d;
    }
    acc = acc + g[off];
  }
  out[o] = acc;
}
//#endif

//#if VEC4
override K: u32 = 4u;
fn first(wid: vec3<u32>, nw: vec3<u32>, lid: u32) -> u32 { return (wid.x + wid.y * nw.x) * 256u * K + lid; }
//#endif

//#if FILL4
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  let v = vec4<f32>(p.value);
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    out[i] = v;
  }
}
//#endif

//#if ACCUMULATE4
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    dst[i] = dst[i] + src[i];
  }
}
//#endif
