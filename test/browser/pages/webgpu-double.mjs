// Doubles n values on the GPU (one compute dispatch, an awkward n so the last workgroup is
// partial), reads them back, draws input and output as bars, and leaves the numbers in
// window.result for the test. Any failure is thrown: the harness turns it into a test failure.
const n = Number(new URLSearchParams(location.search).get('n') ?? 1027);

const adapter = await navigator.gpu?.requestAdapter();
if (!adapter) throw new Error(navigator.gpu ? 'requestAdapter() returned null' : 'navigator.gpu is missing');
const device = await adapter.requestDevice();
device.addEventListener('uncapturederror', (e) => { throw new Error(`WebGPU: ${e.error.message}`); });

const input = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 3 + (i % 7) - 2.5);
const module = device.createShaderModule({ code: `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i < arrayLength(&a)) { b[i] = 2.0 * a[i]; }
}` });
const info = await module.getCompilationInfo();
const errors = info.messages.filter((m) => m.type === 'error');
if (errors.length) throw new Error(`WGSL: ${errors.map((m) => m.message).join('; ')}`);

const bytes = n * 4;
const src = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
new Float32Array(src.getMappedRange()).set(input);
src.unmap();
const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [
  { binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }] });
const enc = device.createCommandEncoder();
const pass = enc.beginComputePass();
pass.setPipeline(pipeline);
pass.setBindGroup(0, bind);
pass.dispatchWorkgroups(Math.ceil(n / 64));
pass.end();
enc.copyBufferToBuffer(dst, 0, read, 0, bytes);
device.queue.submit([enc.finish()]);
await read.mapAsync(GPUMapMode.READ);
const output = Array.from(new Float32Array(read.getMappedRange()));
read.unmap();

// input in blue, output in orange, one pixel column per value (the first 800)
const canvas = document.getElementById('plot');
const ctx = canvas.getContext('2d');
const mid = canvas.height / 2;
const scale = mid / 20;
for (let i = 0; i < Math.min(n, canvas.width); i++) {
  ctx.fillStyle = '#f80';
  ctx.fillRect(i, mid, 1, -output[i] * scale);
  ctx.fillStyle = '#06c';
  ctx.fillRect(i, mid, 1, -input[i] * scale);
}
const i = adapter.info;
document.getElementById('status').textContent = `doubled ${n} values on ${i.vendor} ${i.architecture}`;
window.result = { input: Array.from(input), output, adapter: { vendor: i.vendor, architecture: i.architecture, isFallbackAdapter: i.isFallbackAdapter } };
