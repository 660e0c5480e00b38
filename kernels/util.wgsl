// Buffer utilities (src/gpu/buffers.ts): fill, accumulate in place, add. Element-wise over n
// f32 values of storage buffers, no shapes.
//
// fill:        out[i] = p.value                     params FillParams { n, value }   bindings: 0 P, 1 out
// accumulate:  dst[i] += src[i]                     params CountParams { n }         bindings: 0 P, 1 src, 2 dst
// add:         out[i] = a[i] + b[i]                 params CountParams { n }         bindings: 0 P, 1 a, 2 b, 3 out
// nonfinite:   flags[slot] = max(flags[slot], 0xffffffff - i) for the first i whose src[i] is NaN or
//              ±Inf (exponent bits all ones, tested on the bits); flags (u32) zeroed by the caller,
//              so 0 means all finite.   params NonFiniteParams { n (vec4s), slot }   bindings: 0 P, 1 src, 2 flags
//              vec4 only (VEC4 + NONFINITE4); one atomicMax per invocation that found one.
// Scalar blocks (FILL, ACCUMULATE, ADD): one element per invocation; dispatch grid(n, 256)
//   (workgroup 256, folded into (x, y) beyond 65,535 workgroups).
// Vec4 blocks (VEC4 + FILL4 / ACCUMULATE4 / ADD4), for n % 4 == 0 (slices start 256-byte
//   aligned): p.n counts vec4s; each invocation handles K vec4s (override K), lanes interleaved
//   (invocation l of workgroup w takes w*256*K + l + j*256); dispatch grid(ceil(n4 / K), 256).

//#params

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

//#if ADD
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = idx(gid, nw);
  if (i >= p.n) { return; }
  out[i] = a[i] + b[i];
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

//#if ADD4
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { return; }
    out[i] = a[i] + b[i];
  }
}
//#endif

//#if NONFINITE4
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> flags: array<atomic<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = first(wid, nw, lid);
  var bad = 0xffffffffu;
  for (var j = 0u; j < K; j = j + 1u) {
    let i = i0 + j * 256u;
    if (i >= p.n) { break; }
    let e = (bitcast<vec4<u32>>(src[i]) & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u);
    if (any(e) && bad == 0xffffffffu) { bad = 4u * i + select(select(select(3u, 2u, e.z), 1u, e.y), 0u, e.x); }
  }
  if (bad != 0xffffffffu) { atomicMax(&flags[p.slot], 0xffffffffu - bad); }
}
//#endif
