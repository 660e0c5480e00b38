// Seeded dropout: out[i] = a[i] * keep_scale where element i is kept, else 0 (NaN where a[i] is NaN
// or ±Inf: PyTorch multiplies by the 0/1 mask, and NaN * 0 = Inf * 0 = NaN). Element i is kept
// when hash(seed, i) >= drop_threshold (the drop probability * 2^32), so the mask is a pure
// function of (seed, i): forward and backward (a = upstream gradient) apply the same mask with
// no RNG state and no saved mask, and both widths below give the same mask.
// Hash: Wellons' lowbias32 integer finalizer, applied to the index mixed with the hashed seed.
//
// Uniforms (//#params): DropoutParams { count (elements), seed, drop_threshold, keep_scale (f32) },
// declared in src/ops/pool.ts.
//
// V1: one element per invocation              bindings: 0 P, 1 a, 2 out (array<f32>)
// V4: 4 vec4 units (16 elements) per invocation, count % 4 == 0
//                                             bindings: 0 P, 1 a, 2 out (array<vec4<f32>>)
// Dispatch: 1-D, workgroup 64, grid folded into (x, y).

//#params

fn lowbias32(v: vec4<u32>) -> vec4<u32> {
  var x = v;
  x = x ^ (x >> vec4<u32>(16u));
  x = x * 0x7feb352du;
  x = x ^ (x >> vec4<u32>(15u));
  x = x * 0x846ca68bu;
  x = x ^ (x >> vec4<u32>(16u));
  return x;
}

// keep bits of elements i (four at a time)
fn keep_bits(i: vec4<u32>) -> vec4<u32> {
  let hs = lowbias32(vec4<u32>(p.seed + 0x9e3779b9u)).x;
  return lowbias32(lowbias32(i ^ vec4<u32>(hs)) + vec4<u32>(p.seed));
}

//#if V1
// a dropped element: 0, or NaN for a non-finite one (tested on the bits, made from its bits at run time)
fn dropped(v: f32) -> f32 {
  let u = bitcast<u32>(v);
  return select(0.0, bitcast<f32>(u | 0x7fc00000u), (u & 0x7f800000u) == 0x7f800000u);
}
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.count) { return; }
  let kept = keep_bits(vec4<u32>(i)).x >= p.drop_threshold;
  let v = a[i];
  out[i] = select(dropped(v), v * p.keep_scale, kept);
}
//#endif

//#if V4
fn dropped(v: vec4<f32>) -> vec4<f32> {
  let u = bitcast<vec4<u32>>(v);
  return select(vec4<f32>(0.0), bitcast<vec4<f32>>(u | vec4<u32>(0x7fc00000u)), (u & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u));
}
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
const UNITS = 4u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let u0 = (gid.x + gid.y * nw.x * 64u) * UNITS;
  let n4 = p.count / 4u;
  let u1 = min(u0 + UNITS, n4);
  for (var u = u0; u < u1; u = u + 1u) {
    let kept = keep_bits(vec4<u32>(4u * u) + vec4<u32>(0u, 1u, 2u, 3u)) >= vec4<u32>(p.drop_threshold);
    let v = a[u];
    out[u] = select(dropped(v), v * p.keep_scale, kept);
  }
}
//#endif
