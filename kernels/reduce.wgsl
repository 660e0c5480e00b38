// Reductions along one axis of a tensor viewed as [outer, R, inner].
//
// reduce:   out[o, i] = OP over r of x[o, r, i] (sum, scaled by P.scale for mean; or max
//           with the first arg-max written to arg; a NaN is the maximum, the first one wins)       bindings: 0 P, 1 x, 2 out[, 3 arg]
//           One invocation per (o, i); consecutive invocations read consecutive i.
//           For a long R with few outputs the launcher splits R into P.chunks partial
//           sums (x viewed as [outer, chunks, Rc, inner]) and reduces them again.
// expand:   dx[o, r, i] = P.scale * g[o, i]             bindings: 0 P, 1 g, 2 dx
// scatter:  dx[o, r, i] = g[o, i] where r == arg[o, i], else 0
//                                                       bindings: 0 P, 1 g, 2 arg, 3 dx
// sum_to:   out[o] = sum over the broadcast dims of g, for output index o (the gradient of
//           broadcasting). p.shape = output shape padded to rank (1 on reduced dims), p.gstr = g
//           strides of the kept dims, p.rshape / p.rstr = sizes and g strides of the reduced dims.
//                                                       bindings: 0 P, 1 g, 2 out
// Uniforms (//#params): ReduceParams { outer, r, inner, n, chunk, scale } for sum, max, expand,
// scatter; SumToParams { n, rank, rcount, rrank, shape, gstr, rshape, rstr } for sum_to
// (src/ops/reduce.ts).
// Dispatch: 1-D over the outputs (reduce, sum_to) or the inputs (expand, scatter), workgroup 256,
// grid folded into (x, y).

//#params

fn lin(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * 256u; }
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

//#if SUM
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// n = outer * chunks * inner outputs; chunk = length of each chunk of R
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.n) { return; }
  let i = t % p.inner;
  let oc = t / p.inner;
  let chunks = (p.r + p.chunk - 1u) / p.chunk;
  let c = oc % chunks;
  let o = oc / chunks;
  let r0 = c * p.chunk;
  let r1 = min(p.r, r0 + p.chunk);
  var base = (o * p.r + r0) * p.inner + i;
  var acc = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    acc = acc + x[base];
    base = base + p.inner;
  }
  out[t] = acc * p.scale;
}
//#endif

//#if MAX
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> arg: array<i32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.n) { return; }
  let i = t % p.inner;
  let o = t / p.inner;
  var base = o * p.r * p.inner + i;
  var best = x[base];
  var bi = 0u;
  for (var r = 1u; r < p.r; r = r + 1u) {
    base = base + p.inner;
    let v = x[base];
    // NaN wins, the first one (PyTorch's max and argmax propagate NaN)
    if (v > best || (is_nan(v) && !is_nan(best))) { best = v; bi = r; }
  }
  out[t] = best;
  arg[t] = i32(bi);
}
//#endif

//#if EXPAND
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.n) { return; }
  let i = t % p.inner;
  let o = t / (p.inner * p.r);
  dx[t] = g[o * p.inner + i] * p.scale;
}
//#endif

//#if SCATTER
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> arg: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gid, nw);
  if (t >= p.n) { return; }
  let i = t % p.inner;
  let r = (t / p.inner) % p.r;
  let o = t / (p.inner * p.r);
  let k = o * p.inner + i;
  dx[t] = select(0.0, g[k], u32(arg[k]) == r);
}
//#endif

//#if SUM_TO
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = lin(gid, nw);
  if (o >= p.n) { return; }
  var base = 0u;
  var rem = o;
  for (var k = i32(p.rank) - 1; k >= 0; k = k - 1) {
    let d = p.shape[k / 4][k % 4];
    base = base + (rem % d) * p.gstr[k / 4][k % 4];
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
