// Dynamic loss scaling on the GPU (src/amp/scaler.ts, PyTorch's GradScaler): the scaler's state
// lives in one small storage buffer, so neither the overflow check nor the scale update needs a
// readback; the trainer reads the state with its periodic metrics readback.
// State (binding 2), 8 words: scale (f32), found_inf (u32: a gradient of this step was not
// finite), growth_tracker (u32: finite steps since the scale last changed), skipped (u32: steps
// skipped so far), steps (u32: update() calls so far), 3 unused.
//
// CHECK: found_inf |= any element of a gradient arena (array<vec4<f32>>, p.n4 vec4s) is Inf or NaN
//   once unscaled, g · (1 / scale) (bit test: exponent all ones, independent of any fast-math
//   folding); with p.unscale the unscaled values are also written back (GradScaler.unscale). One invocation per vec4; workgroup 256,
//   grid(n4, 256) folded into (x, y). Bindings: 0 P (CheckParams { n4, unscale }), 1 g, 2 state.
// UPDATE: one invocation. After an overflow: scale ← scale · backoff, growth_tracker ← 0,
//   skipped += 1; else growth_tracker += 1, and after p.interval finite steps in a row
//   scale ← scale · growth (kept when that is not finite) and growth_tracker ← 0. Then
//   found_inf ← 0 and steps += 1 (torch._amp_update_scale_). Bindings: 0 P (UpdateParams
//   { growth, backoff, interval }), 1 state. Dispatch: (1).

//#params

//#if CHECK
struct State { scale: f32, found_inf: atomic<u32>, growth_tracker: u32, skipped: u32, steps: u32 };
@group(0) @binding(1) var<storage, read_write> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> s: State;

fn bad(v: vec4<f32>) -> bool {
  return any((bitcast<vec4<u32>>(v) & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n4) { return; }
  // the unscaled value is tested (as torch does): with a scale below 1 a finite scaled gradient
  // can overflow when divided; this is the product the SGD update computes
  let u = g[i] * (1.0 / s.scale);
  if (bad(u)) { atomicOr(&s.found_inf, 1u); }
  if (p.unscale == 1u) { g[i] = u; }
}
//#endif

//#if UPDATE
struct State { scale: f32, found_inf: u32, growth_tracker: u32, skipped: u32, steps: u32 };
@group(0) @binding(1) var<storage, read_write> s: State;

@compute @workgroup_size(1)
fn main() {
  if (s.found_inf != 0u) {
    s.scale = s.scale * p.backoff;
    s.growth_tracker = 0u;
    s.skipped = s.skipped + 1u;
  } else {
    let ok = s.growth_tracker + 1u;
    if (ok >= p.interval) {
      let grown = s.scale * p.growth;
      if ((bitcast<u32>(grown) & 0x7f800000u) != 0x7f800000u) { s.scale = grown; }
      s.growth_tracker = 0u;
    } else {
      s.growth_tracker = ok;
    }
  }
  s.found_inf = 0u;
  s.steps = s.steps + 1u;
}
//#endif
