// Typed parameter blocks (src/gpu/params.ts): the WGSL struct generated from a declaration follows
// WGSL's uniform layout (checked by a kernel that copies every field out), and the packer refuses
// missing, extra and mistyped fields and oversized blocks; registerKernel refuses a kernel that
// declares struct P itself or lacks its //#params line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import lib, { tensor, internal, gpu } from './helpers/lib.mjs';
const { empty } = lib;

const { paramBlock, registerKernel, grid } = internal;

const Block = paramBlock('test.layout', { a: 'u32', flag: 'bool', b: 'i32', shape: 'u32[8]', c: 'f32', w: 'f32[4]', d: 'u32' });

test('the generated struct follows WGSL uniform layout: every field reads back as packed', async () => {
  assert.match(Block.wgsl, /^struct P \{ a: u32, flag: u32, b: i32, shape: array<vec4<u32>, 2>, c: f32, w: array<vec4<f32>, 1>, d: u32 \}; @group\(0\) @binding\(0\) var<uniform> p: P;$/);
  // a: 0, flag: 4, b: 8, shape: 16..48, c: 48, w: 64..80, d: 80 → 84, rounded to 16: 96
  assert.is(Block.bytes, 96);
  const code = `//#params
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1)
fn main() {
  out[0] = f32(p.a); out[1] = f32(p.flag); out[2] = f32(p.b);
  for (var i = 0u; i < 8u; i = i + 1u) { out[3u + i] = f32(p.shape[i / 4u][i % 4u]); }
  out[11] = p.c;
  for (var i = 0u; i < 4u; i = i + 1u) { out[12u + i] = p.w[0][i]; }
  out[16] = f32(p.d);
}`;
  const k = registerKernel({ name: 'test:layout', code, file: 'test/params.test.mjs', params: Block });
  const out = empty([17]);
  gpu().dispatch({ kernel: k, params: { a: 7, flag: true, b: -3, shape: [2, 3, 5], c: 1.5, w: [0.25, -0.5, 8, 9], d: 4000000000 }, bindings: [out.slice()], workgroups: [1] });
  const v = Array.from(await out.read());
  assert.equal(v, [7, 1, -3, 2, 3, 5, 0, 0, 0, 0, 0, 1.5, 0.25, -0.5, 8, 9, 4000000000]);
  out.dispose();
});

test('the packer refuses missing, extra and mistyped fields, naming the kernel and the field', () => {
  const u32 = new Uint32Array(64), i32 = new Int32Array(u32.buffer), f32 = new Float32Array(u32.buffer);
  const ok = { a: 1, flag: false, b: 0, shape: [], c: 0, w: [], d: 0 };
  const pack = (v) => () => Block.pack(v, u32, i32, f32, 0, 'test:k');
  pack(ok)();
  const { d, ...noD } = ok;
  assert.throws(pack(noD), /^test:k: parameters \(test\.layout\): missing field 'd'$/);
  assert.throws(pack({ ...ok, e: 1 }), /unknown field 'e' \(the block has a, flag, b, shape, c, w, d\)/);
  assert.throws(pack({ ...ok, a: -1 }), /field 'a' must be a u32 .*got -1/);
  assert.throws(pack({ ...ok, a: 1.5 }), /field 'a' must be a u32/);
  assert.throws(pack({ ...ok, a: 2 ** 32 }), /field 'a' must be a u32/);
  assert.throws(pack({ ...ok, b: 2 ** 31 }), /field 'b' must be an i32/);
  assert.throws(pack({ ...ok, flag: 1 }), /field 'flag' must be a boolean, got 1/);
  assert.throws(pack({ ...ok, c: '1' }), /field 'c' must be a number \(f32\), got string/);
  assert.throws(pack({ ...ok, shape: 3 }), /field 'shape' must be an array of at most 8 u32 values, got 3/);
  assert.throws(pack({ ...ok, shape: [1, 2, 3, 4, 5, 6, 7, 8, 9] }), /field 'shape' \(u32\[8\]\) takes at most 8 values, got 9/);
  assert.throws(pack({ ...ok, shape: [1, -2] }), /field 'shape' element 1 must be a u32/);
  // f32 fields take any number, non-finite ones included (fills, scales)
  pack({ ...ok, c: NaN, w: [Infinity] })();
  assert.ok(Number.isNaN(f32[12]), 'c = NaN packed');
});

test('a block over the 256-byte uniform slot, an unknown type or a bad name is refused at declaration', () => {
  const big = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, 'u32']));
  assert.throws(() => paramBlock('test.big', big), /260 bytes do not fit a 256-byte uniform slot/);
  assert.throws(() => paramBlock('test.t', { a: 'u64' }), /field 'a' has unknown type 'u64'/);
  assert.throws(() => paramBlock('test.t', { a: 'u32[6]' }), /array length 6 must be a positive multiple of 4/);
  assert.throws(() => paramBlock('test.t', { 'a-b': 'u32' }), /'a-b' is not a WGSL identifier/);
});

test('registerKernel: the //#params line is required once, and struct P may not be declared by hand', () => {
  const P = paramBlock('test.reg', { n: 'u32' });
  assert.throws(() => registerKernel({ name: 'test:nop', code: 'fn main() {}', file: 'x.wgsl', params: P }), /x\.wgsl: expected one '\/\/#params' line .*found 0/);
  assert.throws(() => registerKernel({ name: 'test:two', code: '//#params\n//#params', file: 'x.wgsl', params: P }), /found 2/);
  assert.throws(() => registerKernel({ name: 'test:own', code: '//#params\nstruct P { n: u32 };', file: 'x.wgsl', params: P }), /x\.wgsl:2: declares struct P itself/);
  const code = '//#params\n@group(0) @binding(1) var<storage, read_write> o: array<u32>;\n@compute @workgroup_size(1) fn main() { o[0] = p.n; }';
  const k1 = registerKernel({ name: 'test:same', code, file: 'x.wgsl', params: P });
  assert.is(registerKernel({ name: 'test:same', code, file: 'x.wgsl', params: P }), k1, 'the same registration returns the same handle');
  assert.throws(() => registerKernel({ name: 'test:same', code: code + ' ', file: 'x.wgsl', params: P }), /registered twice with different code/);
});

test('a bad parameter throws before anything is encoded: the batch stays usable', async () => {
  const P = paramBlock('test.fail', { n: 'u32' });
  const k = registerKernel({ name: 'test:fail', code: '//#params\n@group(0) @binding(1) var<storage, read_write> o: array<u32>;\n@compute @workgroup_size(1) fn main() { o[0] = p.n + 1u; }', file: 'x.wgsl', params: P });
  const o = tensor(new Int32Array(4), [4], { dtype: 'i32' });
  const before = gpu().counters.dispatches;
  assert.throws(() => gpu().dispatch({ kernel: k, params: { n: -1 }, bindings: [o.slice()], workgroups: grid(1, 1) }), /field 'n' must be a u32/);
  assert.is(gpu().counters.dispatches, before, 'nothing was encoded');
  gpu().dispatch({ kernel: k, params: { n: 41 }, bindings: [o.slice()], workgroups: grid(1, 1) });
  assert.equal(Array.from(await o.read()), [42, 0, 0, 0]);
  o.dispose();
});

test.run();
