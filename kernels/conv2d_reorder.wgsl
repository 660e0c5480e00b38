// The weight layouts the tiled implicit-GEMM convolution (kernels/conv2d_tiled.wgsl) reads
// contiguously along K, from OIHW W [Cout, cinG, T] (T = KH·KW taps):
//   forward         Wf[co, tap, ci] = W[co, ci, tap]
//   input gradient  Wd[g, ci, tap, co] = W[g·coutG + co, ci, tap]   (dgrad = 1)
// One output element per invocation (the weights are small next to the convolution).
// Uniforms (//#params): WeightReorderParams, declared in src/ops/conv/tiled.ts:
//   { cout, cing, taps, coutg, dgrad, elements }.
// Bindings: 0 P, 1 W, 2 Wf | Wd. Dispatch: workgroup 64, grid(elements, 64).

//#params

// ELEM: f32, or f16 for mixed precision (a copy: src/ops/precision.ts)
@group(0) @binding(1) var<storage, read> Win: array<ELEM>;
@group(0) @binding(2) var<storage, read_write> Wout: array<ELEM>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 64u;
  if (i >= p.elements) { return; }
  if (p.dgrad == 0u) {
    let ci = i % p.cing;
    let t = (i / p.cing) % p.taps;
    let co = i / (p.cing * p.taps);
    Wout[i] = Win[(co * p.cing + ci) * p.taps + t];
  } else {
    let co = i % p.coutg;
    let t = (i / p.coutg) % p.taps;
    let r = i / (p.coutg * p.taps);
    let ci = r % p.cing;
    let g = r / p.cing;
    Wout[i] = Win[((g * p.coutg + co) * p.cing + ci) * p.taps + t];
  }
}
