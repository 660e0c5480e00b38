// Casts between f32 and f16 storage (mixed precision, src/ops/cast.ts). f16 data is handled as
// its bit patterns, two per u32 word (element 2i in the low half), so this kernel needs no
// `enable f16` and stores whole words (no 16-bit stores).
// TO_F16: Y[i] = half(X[i]) rounded by the device's f32 → f16 conversion (pack2x16float);
//   magnitudes that round beyond the f16 range (>= 65520) become ±Infinity and NaN stays NaN,
//   explicitly: WGSL leaves the conversion of out-of-range values undefined, and dynamic loss
//   scaling (src/amp) must see an overflowed gradient as non-finite. The bits are tested, not the
//   values, so no fast-math assumption can fold the test away.
// TO_F32: Y[i] = f32(X[i]) (exact; unpack2x16float).
// Uniforms (//#params): CastParams { n (elements) }, declared in src/ops/cast.ts.
// Bindings: 0 P, 1 X, 2 Y. One invocation per pair of elements (word of the f16 side);
// dispatch: workgroup 256, grid(ceil(n / 2), 256) folded into (x, y).

//#params

fn lin(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * 256u; }

//#if TO_F16
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;

// f16 bits of v in the low 16 bits
fn half_bits(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let mag = b & 0x7fffffffu;
  let sign = (b >> 16u) & 0x8000u;
  if (mag > 0x7f800000u) { return sign | 0x7e00u; }   // NaN
  if (mag >= 0x477ff000u) { return sign | 0x7c00u; }  // >= 65520: rounds to Infinity
  // (65504, 65520) rounds to 65504: clamp so the conversion stays in range
  let c = clamp(v, -65504.0, 65504.0);
  return pack2x16float(vec2<f32>(c, 0.0)) & 0xffffu;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = lin(gid, nw);
  let e = 2u * i;
  if (e >= p.n) { return; }
  var hi = 0u;
  if (e + 1u < p.n) { hi = half_bits(X[e + 1u]); }
  Y[i] = half_bits(X[e]) | (hi << 16u);
}
//#endif

//#if TO_F32
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = lin(gid, nw);
  let e = 2u * i;
  if (e >= p.n) { return; }
  let v = unpack2x16float(X[i]);
  Y[e] = v.x;
  if (e + 1u < p.n) { Y[e + 1u] = v.y; }
}
//#endif
