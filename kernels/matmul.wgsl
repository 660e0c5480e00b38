// Matmul: C[b] = op(A[b]) · op(B[b]) (+ bias[n]) (then a fused activation); and the
// transpose that feeds the SG variant. Launchers: src/ops/matmul-launch.ts.
// Operands A, B are array<ELEM> (f32, or f16 for mixed precision: src/ops/precision.ts); every
// load converts to f32, so products, accumulators, bias, epilogue and C are f32 either way.
//   op(A) is [M, K]: A stored [M, K], or [K, M] when transposed.
//   op(B) is [K, N]: B stored [K, N], or [N, K] when transposed.
//   Batch index = workgroup_id.z; p.stride_a/b/c are per-batch strides in floats (0 broadcasts).
// Uniforms (//#params), declared in src/ops/matmul-launch.ts:
//   GemmParams (RB4, SG)        { m, n, k, stride_a, stride_b, stride_c, has_bias, act }
//   GemmTransParams (RB, TILED) the same + { trans_a, trans_b }
//   TransposeParams (TRANSPOSE) { rows, cols, batch_stride }
// Bindings (blocks RB, RB4, SG, TILED): 0 p, 1 A, 2 B, 3 C, 4 bias (always bound: the
// device's placeholder buffer when p.has_bias is false). Epilogue (block OUT): + bias[n] when
// p.has_bias, then apply_act(v, p.act) (ACT_WGSL of src/ops/activation.ts, substituted for the
// placeholder line in block OUT: 0 none, 1 relu, 2 relu6); uniform, so one pipeline serves
// every epilogue.
// Transposes: RB (ragged fallback) and TILED read them from p.trans_a / p.trans_b (block
// TRANS_LOADS): one pipeline serves all four forms, which matters on lavapipe where compiling
// a barrier kernel costs seconds. RB4 takes them as the overridable constants TA, TB (0/1:
// they change its inner loop); SG reads one fixed layout.
//
// Blocks: one kernel block (RB, RB4, SG, TILED, TRANSPOSE) with its helpers: MM (scalar A, B
// bindings: RB, SG, TILED), V4 (vec4 A, B bindings: RB4), OUT (C, bias, the epilogue: all
// four GEMM kernels), TRANS_LOADS (loads that read the transposes from p: RB, TILED).
// Variant RB (register-blocked, no barriers, portable): kernel RB4 where the vectorised
//   dimensions are multiples of 4 (vec4 loads, K in steps of 4), else RB (scalar loads).
//   Workgroup 8×8 invocations, each computes a 4×4 block of C: a 32×32 tile per workgroup.
//   Dispatch: (ceil(N/32), ceil(M/32), batch).
// Variant SG (register-blocked, no barriers, subgroup broadcast; what lavapipe runs fastest):
//   workgroup = one subgroup of 8 lanes; tile 24 rows × 16 columns; lane l owns columns
//   n0 + l and n0 + 8 + l (24 accumulators each). Per k, lane l loads A[k, m0 + l],
//   A[k, m0 + 8 + l], A[k, m0 + 16 + l], B[k, n0 + l], B[k, n0 + 8 + l] and the 24 row
//   values are spread to all lanes with subgroupBroadcast. On lavapipe every per-lane load
//   is a scalar bounds-checked load per lane (~7 instructions) while a broadcast is two
//   vector instructions, so this needs 5 per-lane loads per 48 multiply-adds (a 4×4 block
//   per lane needs 8 per 16). K is unrolled by 4.
//   Reads A as [K, M] and B as [K, N] only: matmulRaw transposes other
//   layouts first with the TRANSPOSE kernel. Requires `enable subgroups` and a subgroup
//   size >= 8. Dispatch: (ceil(N/16), ceil(M/24), batch).
// Variant TILED (workgroup memory, what hardware GPUs run fast):
//   workgroup 16×16, 64×64 tile of C, K in steps of 16 staged in var<workgroup>;
//   each invocation computes 4×4. Dispatch: (ceil(N/64), ceil(M/64), batch).
// TRANSPOSE: Y[b] = X[b]ᵀ (ELEM in, ELEM out: a copy), X [p.rows, p.cols] per batch, p.batch_stride = rows·cols.
//   Bindings: 0 p, 1 X, 2 Y. Workgroup 8×8, a 4×4 block per invocation.
//   Dispatch: (ceil(cols/32), ceil(rows/32), batch).
//#if SG
enable subgroups;
//#endif

//#params

//#if MM
@group(0) @binding(1) var<storage, read> A: array<ELEM>;
@group(0) @binding(2) var<storage, read> B: array<ELEM>;
//#endif
//#if V4
@group(0) @binding(1) var<storage, read> A4: array<vec4<ELEM>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<ELEM>>;
//#endif
//#if OUT
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

APPLY_ACT_FN

fn store(base: u32, m: u32, n: u32, v: f32) {
  if (m < p.m && n < p.n) {
    var r = v;
    if (p.has_bias != 0u) { r = r + bias[n]; }
    C[base + m * p.n + n] = apply_act(r, p.act);
  }
}
//#endif

//#if TRANS_LOADS
// Zero outside op(A) / op(B); the layout from p.trans_a / p.trans_b.
fn loadA(base: u32, m: u32, k: u32) -> f32 {
  if (m >= p.m || k >= p.k) { return 0.0; }
  if (p.trans_a != 0u) { return f32(A[base + k * p.m + m]); }
  return f32(A[base + m * p.k + k]);
}

fn loadB(base: u32, k: u32, n: u32) -> f32 {
  if (k >= p.k || n >= p.n) { return 0.0; }
  if (p.trans_b != 0u) { return f32(B[base + n * p.k + k]); }
  return f32(B[base + k * p.n + n]);
}
//#endif

//#if RB
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let b = wid.z;
  let baseA = b * p.stride_a;
  let baseB = b * p.stride_b;
  let baseC = b * p.stride_c;
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.m || n0 >= p.n) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < p.k; k = k + 1u) {
    let bv = vec4<f32>(loadB(baseB, k, n0), loadB(baseB, k, n0 + 1u), loadB(baseB, k, n0 + 2u), loadB(baseB, k, n0 + 3u));
    acc[0] = acc[0] + loadA(baseA, m0, k) * bv;
    acc[1] = acc[1] + loadA(baseA, m0 + 1u, k) * bv;
    acc[2] = acc[2] + loadA(baseA, m0 + 2u, k) * bv;
    acc[3] = acc[3] + loadA(baseA, m0 + 3u, k) * bv;
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      store(baseC, m0 + i, n0 + j, acc[i][j]);
    }
  }
}
//#endif

//#if RB4
// 4×4 block per invocation from vec4 loads, K in steps of 4. Needs K % 4 == 0, and
// M % 4 == 0 when TA = 1, N % 4 == 0 when TB = 0 (matmulRaw checks; else RB runs).
// Offsets below are in vec4 units within one batch (base* are in floats, multiples of 4).
override TA: u32 = 0u;
override TB: u32 = 0u;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let b = wid.z;
  let baseA = b * p.stride_a / 4u;
  let baseB = b * p.stride_b / 4u;
  let baseC = b * p.stride_c;
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.m || n0 >= p.n) { return; }
  let k4 = p.k / 4u;
  let lastM = p.m - 1u;
  let lastN = p.n - 1u;
  var acc0 = vec4<f32>(); var acc1 = vec4<f32>(); var acc2 = vec4<f32>(); var acc3 = vec4<f32>();
  for (var kq = 0u; kq < k4; kq = kq + 1u) {
    // a_r: row m0 + r of op(A) over k = 4kq .. 4kq + 3
    var a0: vec4<f32>; var a1: vec4<f32>; var a2: vec4<f32>; var a3: vec4<f32>;
    if (TA == 0u) {
      a0 = vec4<f32>(A4[baseA + min(m0, lastM) * k4 + kq]);
      a1 = vec4<f32>(A4[baseA + min(m0 + 1u, lastM) * k4 + kq]);
      a2 = vec4<f32>(A4[baseA + min(m0 + 2u, lastM) * k4 + kq]);
      a3 = vec4<f32>(A4[baseA + min(m0 + 3u, lastM) * k4 + kq]);
    } else {
      // A stored [K, M]: t_j is row k = 4kq + j, columns m0 .. m0 + 3
      let m4 = p.m / 4u;
      let t0 = vec4<f32>(A4[baseA + (4u * kq) * m4 + m0 / 4u]);
      let t1 = vec4<f32>(A4[baseA + (4u * kq + 1u) * m4 + m0 / 4u]);
      let t2 = vec4<f32>(A4[baseA + (4u * kq + 2u) * m4 + m0 / 4u]);
      let t3 = vec4<f32>(A4[baseA + (4u * kq + 3u) * m4 + m0 / 4u]);
      a0 = vec4<f32>(t0.x, t1.x, t2.x, t3.x);
      a1 = vec4<f32>(t0.y, t1.y, t2.y, t3.y);
      a2 = vec4<f32>(t0.z, t1.z, t2.z, t3.z);
      a3 = vec4<f32>(t0.w, t1.w, t2.w, t3.w);
    }
    // b_j: row k = 4kq + j of op(B), columns n0 .. n0 + 3
    var b0: vec4<f32>; var b1: vec4<f32>; var b2: vec4<f32>; var b3: vec4<f32>;
    if (TB == 0u) {
      let n4 = p.n / 4u;
      b0 = vec4<f32>(B4[baseB + (4u * kq) * n4 + n0 / 4u]);
      b1 = vec4<f32>(B4[baseB + (4u * kq + 1u) * n4 + n0 / 4u]);
      b2 = vec4<f32>(B4[baseB + (4u * kq + 2u) * n4 + n0 / 4u]);
      b3 = vec4<f32>(B4[baseB + (4u * kq + 3u) * n4 + n0 / 4u]);
    } else {
      // B stored [N, K]: u_c is column n0 + c over k = 4kq .. 4kq + 3
      let u0 = vec4<f32>(B4[baseB + min(n0, lastN) * k4 + kq]);
      let u1 = vec4<f32>(B4[baseB + min(n0 + 1u, lastN) * k4 + kq]);
      let u2 = vec4<f32>(B4[baseB + min(n0 + 2u, lastN) * k4 + kq]);
      let u3 = vec4<f32>(B4[baseB + min(n0 + 3u, lastN) * k4 + kq]);
      b0 = vec4<f32>(u0.x, u1.x, u2.x, u3.x);
      b1 = vec4<f32>(u0.y, u1.y, u2.y, u3.y);
      b2 = vec4<f32>(u0.z, u1.z, u2.z, u3.z);
      b3 = vec4<f32>(u0.w, u1.w, u2.w, u3.w);
    }
    acc0 = fma(vec4<f32>(a0.x), b0, fma(vec4<f32>(a0.y), b1, fma(vec4<f32>(a0.z), b2, fma(vec4<f32>(a0.w), b3, acc0))));
    acc1 = fma(vec4<f32>(a1.x), b0, fma(vec4<f32>(a1.y), b1, fma(vec4<f32>(a1.z), b2, fma(vec4<f32>(a1.w), b3, acc1))));
    acc2 = fma(vec4<f32>(a2.x), b0, fma(vec4<f32>(a2.y), b1, fma(vec4<f32>(a2.z), b2, fma(vec4<f32>(a2.w), b3, acc2))));
    acc3 = fma(vec4<f32>(a3.x), b0, fma(vec4<f32>(a3.y), b1, fma(vec4<f32>(a3.z), b2, fma(vec4<f32>(a3.w), b3, acc3))));
  }
  for (var j = 0u; j < 4u; j = j + 1u) {
    store(baseC, m0, n0 + j, acc0[j]);
    store(baseC, m0 + 1u, n0 + j, acc1[j]);
    store(baseC, m0 + 2u, n0 + j, acc2[j]);
    store(baseC, m0 + 3u, n0 + j, acc3[j]);
  }
}
//#endif

//#if SG
// Accumulators: column n0 + l in c0_q, column n0 + 8 + l in c1_q; component i of c*_q is
// row m0 + 4q + i.
var<private> c0_0: vec4<f32>; var<private> c0_1: vec4<f32>; var<private> c0_2: vec4<f32>;
var<private> c0_3: vec4<f32>; var<private> c0_4: vec4<f32>; var<private> c0_5: vec4<f32>;
var<private> c1_0: vec4<f32>; var<private> c1_1: vec4<f32>; var<private> c1_2: vec4<f32>;
var<private> c1_3: vec4<f32>; var<private> c1_4: vec4<f32>; var<private> c1_5: vec4<f32>;

// The 8 lanes' values of x as two vec4s (lanes 0..3, 4..7).
fn lo4(x: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(x, 0u), subgroupBroadcast(x, 1u), subgroupBroadcast(x, 2u), subgroupBroadcast(x, 3u));
}
fn hi4(x: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(x, 4u), subgroupBroadcast(x, 5u), subgroupBroadcast(x, 6u), subgroupBroadcast(x, 7u));
}

// One k step: x0/x1/x2 are this lane's A values for rows m0 + l, m0 + 8 + l, m0 + 16 + l;
// b0/b1 its B values for columns n0 + l and n0 + 8 + l.
fn sgStep(x0: f32, x1: f32, x2: f32, b0: f32, b1: f32) {
  let r0 = lo4(x0);
  let r1 = hi4(x0);
  let r2 = lo4(x1);
  let r3 = hi4(x1);
  let r4 = lo4(x2);
  let r5 = hi4(x2);
  let v0 = vec4<f32>(b0);
  let v1 = vec4<f32>(b1);
  c0_0 = fma(r0, v0, c0_0); c0_1 = fma(r1, v0, c0_1); c0_2 = fma(r2, v0, c0_2);
  c0_3 = fma(r3, v0, c0_3); c0_4 = fma(r4, v0, c0_4); c0_5 = fma(r5, v0, c0_5);
  c1_0 = fma(r0, v1, c1_0); c1_1 = fma(r1, v1, c1_1); c1_2 = fma(r2, v1, c1_2);
  c1_3 = fma(r3, v1, c1_3); c1_4 = fma(r4, v1, c1_4); c1_5 = fma(r5, v1, c1_5);
}

// Loads for step k; rows/columns past the edge were clamped to the last one (results
// for them are computed and dropped at the store), so the loop has no branches.
fn sgAt(k: u32, rows: vec3<u32>, na: u32, nb: u32) {
  let ka = k * p.m;
  let kb = k * p.n;
  sgStep(f32(A[ka + rows.x]), f32(A[ka + rows.y]), f32(A[ka + rows.z]), f32(B[kb + na]), f32(B[kb + nb]));
}

fn sgStore4(base: u32, m: u32, n: u32, v: vec4<f32>) {
  store(base, m, n, v.x);
  store(base, m + 1u, n, v.y);
  store(base, m + 2u, n, v.z);
  store(base, m + 3u, n, v.w);
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let b = wid.z;
  let baseA = b * p.stride_a;
  let baseB = b * p.stride_b;
  let baseC = b * p.stride_c;
  let m0 = wid.y * 24u;
  let n0 = wid.x * 16u;
  let last = p.m - 1u;
  let rows = vec3<u32>(baseA) + min(vec3<u32>(m0 + l, m0 + 8u + l, m0 + 16u + l), vec3<u32>(last));
  let na = baseB + min(n0 + l, p.n - 1u);
  let nb = baseB + min(n0 + 8u + l, p.n - 1u);
  let kmain = p.k & ~3u;
  var k = 0u;
  for (; k < kmain; k = k + 4u) {
    sgAt(k, rows, na, nb);
    sgAt(k + 1u, rows, na, nb);
    sgAt(k + 2u, rows, na, nb);
    sgAt(k + 3u, rows, na, nb);
  }
  for (; k < p.k; k = k + 1u) {
    sgAt(k, rows, na, nb);
  }
  let n1 = n0 + 8u + l;
  sgStore4(baseC, m0, n0 + l, c0_0); sgStore4(baseC, m0 + 4u, n0 + l, c0_1);
  sgStore4(baseC, m0 + 8u, n0 + l, c0_2); sgStore4(baseC, m0 + 12u, n0 + l, c0_3);
  sgStore4(baseC, m0 + 16u, n0 + l, c0_4); sgStore4(baseC, m0 + 20u, n0 + l, c0_5);
  sgStore4(baseC, m0, n1, c1_0); sgStore4(baseC, m0 + 4u, n1, c1_1);
  sgStore4(baseC, m0 + 8u, n1, c1_2); sgStore4(baseC, m0 + 12u, n1, c1_3);
  sgStore4(baseC, m0 + 16u, n1, c1_4); sgStore4(baseC, m0 + 20u, n1, c1_5);
}
//#endif

//#if TILED
var<workgroup> tA: array<array<f32, 64>, 16>;   // [k][m]
var<workgroup> tB: array<array<f32, 64>, 16>;   // [k][n]

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let b = wid.z;
  let baseA = b * p.stride_a;
  let baseB = b * p.stride_b;
  let baseC = b * p.stride_c;
  let tm = wid.y * 64u;
  let tn = wid.x * 64u;
  let li = lid.y * 16u + lid.x;     // 0..255
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.k; k0 = k0 + 16u) {
    // each invocation stages 4 elements of A's and 4 of B's 16×64 tiles
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = li * 4u + e;        // 0..1023
      let kk = idx / 64u;
      let mm = idx % 64u;
      tA[kk][mm] = loadA(baseA, tm + mm, k0 + kk);
      tB[kk][mm] = loadB(baseB, k0 + kk, tn + mm);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk = kk + 1u) {
      let bv = vec4<f32>(tB[kk][lid.x * 4u], tB[kk][lid.x * 4u + 1u], tB[kk][lid.x * 4u + 2u], tB[kk][lid.x * 4u + 3u]);
      acc[0] = acc[0] + tA[kk][lid.y * 4u] * bv;
      acc[1] = acc[1] + tA[kk][lid.y * 4u + 1u] * bv;
      acc[2] = acc[2] + tA[kk][lid.y * 4u + 2u] * bv;
      acc[3] = acc[3] + tA[kk][lid.y * 4u + 3u] * bv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      store(baseC, tm + lid.y * 4u + i, tn + lid.x * 4u + j, acc[i][j]);
    }
  }
}
//#endif

//#if TRANSPOSE
@group(0) @binding(1) var<storage, read> X: array<ELEM>;
@group(0) @binding(2) var<storage, read_write> Y: array<ELEM>;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c0 = gid.x * 4u;
  let r0 = gid.y * 4u;
  let base = gid.z * p.batch_stride;
  if (r0 >= p.rows || c0 >= p.cols) { return; }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = r0 + i;
    if (r < p.rows) {
      for (var j = 0u; j < 4u; j = j + 1u) {
        let c = c0 + j;
        if (c < p.cols) { Y[base + c * p.rows + r] = X[base + r * p.cols + c]; }
      }
    }
  }
}
//#endif
