// Training/evaluation metrics accumulated on the GPU (no readback inside a step).
// For logits [rows, n] and i32 labels [rows], adds into acc (f32[4]):
//   acc[0] += loss[0] * rows   (when has_loss; the batch-mean loss weighted by the batch size)
//   acc[1] += rows whose label is the top-1 prediction
//   acc[2] += rows whose label is among the top-5 predictions
//   acc[3] += rows
// A label's rank counts the logits above it, and equal logits at lower indices
// (argmax-first tie breaking). NaN as in PyTorch's argmax and topk: a NaN is above every number
// and equal to another NaN, so a row with a NaN predicts its first NaN (a finite label logit is
// then wrong, at top-1 and at top-5 once five NaNs precede it). is_nan tests the bits (compilers
// may assume v != v is false).
// Params: MetricsParams { rows, classes (n, the logits' row length), has_loss }, declared in
//         src/train/metrics.ts (binding 0).
// Bindings: 0 P, 1 logits (read), 2 labels (read), 3 loss (read, 1 element; the device's
//           placeholder without a loss), 4 acc (read_write).
// Dispatch: one workgroup of 64 invocations; each strides over rows, then one
// barrier and invocation 0 sums the 64 partial counts.

//#params
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> acc: array<f32>;

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

var<workgroup> part1: array<f32, 64>;
var<workgroup> part5: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32) {
  var c1 = 0.0;
  var c5 = 0.0;
  for (var r = li; r < p.rows; r = r + 64u) {
    let t = u32(labels[r]);
    let base = r * p.classes;
    let zt = logits[base + t];
    let nt = is_nan(zt);
    var above = 0u;
    for (var j = 0u; j < p.classes; j = j + 1u) {
      let v = logits[base + j];
      let nv = is_nan(v);
      let gt = select(v > zt, nv && !nt, nv || nt);
      let eq = select(v == zt, nv && nt, nv || nt);
      if (gt || (eq && j < t)) { above = above + 1u; }
    }
    if (above == 0u) { c1 = c1 + 1.0; }
    if (above < 5u) { c5 = c5 + 1.0; }
  }
  part1[li] = c1;
  part5[li] = c5;
  workgroupBarrier();
  if (li == 0u) {
    var s1 = 0.0;
    var s5 = 0.0;
    for (var k = 0u; k < 64u; k = k + 1u) {
      s1 = s1 + part1[k];
      s5 = s5 + part5[k];
    }
    if (p.has_loss != 0u) { acc[0] = acc[0] + loss[0] * f32(p.rows); }
    acc[1] = acc[1] + s1;
    acc[2] = acc[2] + s5;
    acc[3] = acc[3] + f32(p.rows);
  }
}
