// Seeded dropout: out[i] = a[i] * scale where element i is kept, else 0. Element i is kept
// when hash(seed, i) >= threshold (threshold = p * 2^32), so the mask is a pure function of
// (seed, i): forward and backward (a = upstream gradient) apply the same mask with no RNG
// state and no saved mask.
// Hash: Wellons' lowbias32 integer finalizer, applied to the index mixed with the hashed seed.
// bindings: 0 P, 1 a, 2 out          dispatch 1-D over n, workgroup 256, grid folded into (x, y)

struct P {
  n: u32, seed: u32, threshold: u32, pad0: u32,
  scale: f32,
};

@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn lowbias32(v: u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}

fn keep_bits(seed: u32, i: u32) -> u32 {
  return lowbias32(lowbias32(i ^ lowbias32(seed + 0x9e3779b9u)) + seed);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n) { return; }
  let kept = keep_bits(p.seed, i) >= p.threshold;
  out[i] = select(0.0, a[i] * p.scale, kept);
}
