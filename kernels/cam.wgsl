// Class activation maps (CAM and Grad-CAM) for the visualization commands.
// One invocation per output element, workgroup 64, grid folded into (x, y):
// element index = gid.x + gid.y * nw.x * 64. No barriers (lavapipe-friendly).
//
// Each block has its own parameter block (binding 0, inserted at //#params), declared in
// src/viz/cam.ts.
//
// WSUM      maps[k, s] = act(Σ_c w[k, c] · feat[c, s])      (act = ReLU when p.relu)
//           feat [C, S] (S = h·w, one image's last feature maps), w [K, C], maps [K, S]
//           params WsumParams { map_count (K), channels (C), positions (S), relu }
//           bindings: 0 P, 1 feat, 2 w, 3 maps
// GRADW     w[k, c] = (1/S) Σ_s g[k, c, s]                   (Grad-CAM channel weights:
//           spatial mean of the gradient of class k's logit w.r.t. the feature maps)
//           params GradwParams { map_count (K), channels (C), positions (S) }
//           bindings: 0 P, 1 g, 2 w
// UPSAMPLE  bilinear resize of K maps [K, h, w] → [K, H, W], align_corners = false as
//           PyTorch: src = (dst + 0.5) · in/out − 0.5, clamped below at 0; the upper
//           neighbour is clamped to the last row/column.
//           params UpsampleParams { map_count (K), in_height (h), in_width (w),
//           out_height (H), out_width (W) }                  bindings: 0 P, 1 src, 2 dst

//#params

fn index(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * 64u; }

//#if WSUM
@group(0) @binding(1) var<storage, read> feat: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> maps: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = index(gid, nw);
  let K = p.map_count; let C = p.channels; let S = p.positions;
  if (i >= K * S) { return; }
  let k = i / S;
  let s = i - k * S;
  var acc = 0.0;
  for (var c = 0u; c < C; c = c + 1u) { acc = acc + w[k * C + c] * feat[c * S + s]; }
  if (p.relu == 1u) { acc = max(acc, 0.0); }
  maps[i] = acc;
}
//#endif

//#if GRADW
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> w: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = index(gid, nw);
  let K = p.map_count; let C = p.channels; let S = p.positions;
  if (i >= K * C) { return; }
  let base = i * S;
  var acc = 0.0;
  for (var s = 0u; s < S; s = s + 1u) { acc = acc + g[base + s]; }
  w[i] = acc / f32(S);
}
//#endif

//#if UPSAMPLE
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// Source coordinate and the two neighbours with their weights along one axis.
struct Tap { i0: u32, i1: u32, l1: f32 };
fn tap(o: u32, nin: u32, nout: u32) -> Tap {
  let scale = f32(nin) / f32(nout);
  let x = max((f32(o) + 0.5) * scale - 0.5, 0.0);
  let i0 = min(u32(floor(x)), nin - 1u);
  let i1 = min(i0 + 1u, nin - 1u);
  return Tap(i0, i1, x - f32(i0));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = index(gid, nw);
  let K = p.map_count; let h = p.in_height; let w = p.in_width; let H = p.out_height; let W = p.out_width;
  if (i >= K * H * W) { return; }
  let k = i / (H * W);
  let r = i - k * H * W;
  let oy = r / W;
  let ox = r - oy * W;
  let ty = tap(oy, h, H);
  let tx = tap(ox, w, W);
  let base = k * h * w;
  let v00 = src[base + ty.i0 * w + tx.i0];
  let v01 = src[base + ty.i0 * w + tx.i1];
  let v10 = src[base + ty.i1 * w + tx.i0];
  let v11 = src[base + ty.i1 * w + tx.i1];
  let top = v00 * (1.0 - tx.l1) + v01 * tx.l1;
  let bot = v10 * (1.0 - tx.l1) + v11 * tx.l1;
  dst[i] = top * (1.0 - ty.l1) + bot * ty.l1;
}
//#endif
