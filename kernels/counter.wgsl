// Adds a constant to a single i32 counter in place (batchnorm's
// num_batches_tracked, brought up to date when a state dict is taken).
// Uniforms (//#params): CounterParams { add: i32 }, declared in src/nn/layers.ts.
// Bindings: 0 P, 1 counter (read_write, one i32).
// Dispatch: one workgroup of one invocation.

//#params
@group(0) @binding(1) var<storage, read_write> counter: array<i32>;

@compute @workgroup_size(1)
fn main() {
  counter[0] = counter[0] + p.add;
}
