// SGD update over a parameter arena (all of a model's parameters packed into one
// buffer, with their gradients and momentum buffers in two more of the same layout),
// so one dispatch updates every parameter. PyTorch's torch.optim.SGD semantics:
//   d = g + wd·w;  buf = first ? d : μ·buf + (1 − dampening)·d;
//   d = nesterov ? d + μ·buf : buf   (when μ ≠ 0);   w = w − lr·d      (w: a parameter)
// Under a GradScaler (mixed precision, src/amp/scaler.ts; p.scaled = 1) the step is skipped
// when the scaler found a non-finite gradient this step (amp.found_inf, set by kernels/amp.wgsl's
// CHECK before this dispatch), and the gradients are unscaled on the fly (g / amp.scale; the
// gradient arena itself keeps the scaled values), unless unscale() already did it (p.unscaled).
// Params: SgdParams { n4 (vec4s in the arena), first_step (buf starts as d), nesterov,
//         use_momentum, lr, momentum (μ), dampening, weight_decay (wd), scaled, unscaled },
//         declared in src/optim/sgd.ts (binding 0).
// Bindings: 0 P, 1 prm (parameters, read_write), 2 grd (gradients, read),
//           3 buf (momentum, read_write; the device's placeholder when use_momentum is false),
//           4 amp (the scaler's state, read; when p.scaled is false a slice of grd, never read).
// Dispatch: 1-D over p.n4 vec4s (the arena's bytes / 16), workgroup 256, grid folded into
// (x, y): i = gid.x + gid.y * nw.x * 256.

//#params
@group(0) @binding(1) var<storage, read_write> prm: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grd: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf: array<vec4<f32>>;
// the first words of src/amp/scaler.ts's state: the loss scale and this step's overflow flag
struct AmpState { scale: f32, found_inf: u32 };
@group(0) @binding(4) var<storage, read> amp: AmpState;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n4) { return; }
  var g = grd[i];
  if (p.scaled == 1u) {
    if (amp.found_inf != 0u) { return; }
    if (p.unscaled == 0u) { g = g * (1.0 / amp.scale); }
  }
  let w = prm[i];
  var d = g + p.weight_decay * w;
  if (p.use_momentum == 1u) {
    var b = d;
    if (p.first_step == 0u) { b = p.momentum * buf[i] + (1.0 - p.dampening) * d; }
    buf[i] = b;
    if (p.nesterov == 1u) { d = d + p.momentum * b; } else { d = b; }
  }
  prm[i] = w - p.lr * d;
}
