// Vector-width helpers shared by the row kernels of kernels/focus_loss.wgsl and
// kernels/losses.wgsl (rows are read as V = f32, vec2 or vec4 when N % W == 0).
// rowLossKernels (src/losses/common.ts) appends one block (W1, W2 or W4) after the kernel's
// own code, so compile errors in the kernel keep its line numbers. No bindings, no entry
// points, no parameters (the kernel's //#params block comes first).

//#if W1
alias V = f32;
alias VU = u32;
const W = 1u;
fn first(v: V) -> f32 { return v; }
fn hsum(v: V) -> f32 { return v; }
fn hmax(v: V) -> f32 { return v; }
fn idx(j: u32) -> VU { return j; }
fn elem(v: V, k: u32) -> f32 { return v; }
//#endif
//#if W2
alias V = vec2<f32>;
alias VU = vec2<u32>;
const W = 2u;
fn first(v: V) -> f32 { return v.x; }
fn hsum(v: V) -> f32 { return v.x + v.y; }
fn hmax(v: V) -> f32 { return max(v.x, v.y); }
fn idx(j: u32) -> VU { return vec2<u32>(2u * j) + vec2<u32>(0u, 1u); }
fn elem(v: V, k: u32) -> f32 { return v[k]; }
//#endif
//#if W4
alias V = vec4<f32>;
alias VU = vec4<u32>;
const W = 4u;
fn first(v: V) -> f32 { return v.x; }
fn hsum(v: V) -> f32 { return (v.x + v.y) + (v.z + v.w); }
fn hmax(v: V) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }
fn idx(j: u32) -> VU { return vec4<u32>(4u * j) + vec4<u32>(0u, 1u, 2u, 3u); }
fn elem(v: V, k: u32) -> f32 { return v[k]; }
//#endif
