// SGD update over a parameter arena (all of a model's parameters packed into one
// buffer, with their gradients and momentum buffers in two more of the same layout),
// so one dispatch updates every parameter. PyTorch's torch.optim.SGD semantics:
//   d = g + wd·p;  buf = first ? d : μ·buf + (1 − dampening)·d;
//   d = nesterov ? d + μ·buf : buf   (when μ ≠ 0);   p = p − lr·d
// Bindings: 0 P, 1 p (read_write), 2 g (read), 3 buf (read_write).
// Dispatch: 1-D over P.n elements as vec4 (n is a multiple of 4), workgroup 256,
// grid folded into (x, y).

struct P {
  n4: u32, first: u32, nesterov: u32, useMomentum: u32,
  lr: f32, momentum: f32, dampening: f32, wd: f32,
};
@group(0) @binding(0) var<uniform> u: P;
@group(0) @binding(1) var<storage, read_write> prm: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> grd: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= u.n4) { return; }
  let p = prm[i];
  var d = grd[i] + u.wd * p;
  if (u.useMomentum == 1u) {
    var b = d;
    if (u.first == 0u) { b = u.momentum * buf[i] + (1.0 - u.dampening) * d; }
    buf[i] = b;
    if (u.nesterov == 1u) { d = d + u.momentum * b; } else { d = b; }
  }
  prm[i] = p - u.lr * d;
}
