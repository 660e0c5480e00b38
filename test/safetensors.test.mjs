// safetensors: exact format, round trip, dtype conversions, torch-written fixtures, bad files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lib, { tensor } from './helpers/lib.mjs';
import { rng, assertClose } from './helpers/ref.mjs';

const { io, models } = lib;
const FIX = new URL('./fixtures/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'focusnet-st-'));
const tmp = (name) => join(dir, name);

function header(path) {
  const b = readFileSync(path);
  const n = Number(b.readBigUInt64LE(0));
  return { n, text: b.subarray(8, 8 + n).toString('utf8'), total: b.length };
}

test('round trip is bit-exact (NaN, -0, denormals, i32 as I64) and the layout is the spec', async () => {
  const r = rng(11);
  const a = Float32Array.from(r.randn(37));
  a[0] = NaN; a[1] = -0; a[2] = 1e-42; a[3] = Infinity; a[4] = -3.4e38;
  const b = Int32Array.from([0, -1, 2147483647, -2147483648, 12345]);
  const dict = { 'layer.weight': tensor(a, [37]), 'a.counter': tensor(b, [5]), scalar: tensor(Int32Array.of(9), []), empty: tensor(new Float32Array(0), [0, 3]) };
  const path = tmp('rt.safetensors');
  await io.saveSafetensors(path, dict, { format: 'pt', note: 'hi' });
  const h = header(path);
  assert.is(h.n % 8, 0, 'header length is a multiple of 8');
  const json = JSON.parse(h.text);
  assert.equal(json.__metadata__, { format: 'pt', note: 'hi' });
  assert.is(json['a.counter'].dtype, 'I64');
  assert.equal(json['layer.weight'], { dtype: 'F32', shape: [37], data_offsets: [48, 48 + 148] });
  assert.equal(json.scalar.shape, []);
  assert.ok(/^[^]*\}\s*$/.test(h.text) && h.text.trimEnd().length >= h.text.length - 7, 'padding is trailing spaces');
  assert.is(h.total, 8 + h.n + 5 * 8 + 8 + 37 * 4);
  const back = io.loadSafetensors(path);
  assert.equal(Object.keys(back).sort(), Object.keys(dict).sort());
  const ab = new Uint32Array((await back['layer.weight'].read()).buffer);
  assert.equal([...ab], [...new Uint32Array(a.buffer)], 'f32 bits');
  assert.is(back['a.counter'].dtype, 'i32');
  assert.equal([...(await back['a.counter'].read())], [...b]);
  assert.equal(back.scalar.shape, []);
  assert.is((await back.scalar.read())[0], 9);
  assert.equal(back.empty.shape, [0, 3]);
  assert.equal(io.readSafetensorsMetadata(path), { format: 'pt', note: 'hi' });
  for (const t of [...Object.values(dict), ...Object.values(back)]) t.dispose();
});

test('readSafetensorsMetadata reads the header only: the metadata of a file whose data is cut short', () => {
  const bytes = io.encodeSafetensors({ w: { shape: [1000], data: new Float32Array(1000).fill(1) } }, { arch: 'lenet5', epoch: '3' });
  const whole = join(dir, 'meta-whole.safetensors');
  writeFileSync(whole, bytes);
  assert.equal(io.readSafetensorsMetadata(whole), { arch: 'lenet5', epoch: '3' });
  // the same header with half the data: loading fails, the metadata still reads
  const cut = join(dir, 'meta-cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.byteLength - 2000));
  assert.equal(io.readSafetensorsMetadata(cut), { arch: 'lenet5', epoch: '3' });
  assert.throws(() => io.loadSafetensors(cut), /go beyond|cover/);
  const none = join(dir, 'meta-none.safetensors');
  writeFileSync(none, io.encodeSafetensors({ w: { shape: [2], data: Float32Array.of(1, 2) } }));
  assert.is(io.readSafetensorsMetadata(none), null);
  const bad = join(dir, 'meta-bad.safetensors');
  writeFileSync(bad, Uint8Array.of(200, 0, 0, 0, 0, 0, 0, 0, 123));
  assert.throws(() => io.readSafetensorsMetadata(bad), /header length 200 goes beyond the end of the file/);
  assert.throws(() => io.readSafetensorsMetadata(join(dir, 'missing.safetensors')), /cannot read the file/);
});

test('encode → decode on the host matches, tensors ordered I64 first then by name', () => {
  const bytes = io.encodeSafetensors({ b: { shape: [2], data: Float32Array.of(1, 2) }, a: { shape: [1], data: Float32Array.of(3) }, n: { shape: [], data: Int32Array.of(4) } });
  const dec = io.decodeSafetensors(bytes, 'mem');
  assert.equal(dec.metadata, null);
  assert.equal(Object.keys(dec.tensors), ['n', 'a', 'b']);
  assert.equal([...dec.tensors.b.data], [1, 2]);
  assert.is(dec.tensors.n.fileDtype, 'I64');
});

test('reads F16, BF16, F64, I64, I32, U8 written by torch', async () => {
  const d = io.decodeSafetensors(readFileSync(FIX + 'dtypes.safetensors'), 'dtypes');
  for (const k of ['f16', 'bf16', 'f64']) {
    assert.is(d.tensors[k].dtype, 'f32');
    assertClose(d.tensors[k].data, d.tensors[k + '_expect'].data, { rtol: 0, atol: 0, what: k });
  }
  assert.equal(d.tensors.i64.shape, [2, 2]);
  assert.equal([...d.tensors.i64.data], [0, -1, 2147483647, -2147483648]);
  assert.equal([...d.tensors.i32.data], [5, -6, 7]);
  assert.equal([...d.tensors.u8.data], [0, 255, 3]);
  assert.equal(d.tensors.scalar.shape, []);
  assert.equal([...d.tensors.scalar.data], [42]);
  assert.equal(d.metadata, { note: 'dtype conversions' });
  const t = io.loadSafetensors(FIX + 'dtypes.safetensors');
  assert.is(t.i64.dtype, 'i32');
  for (const v of Object.values(t)) v.dispose();
});

test('a torch-written LeNet-5 state dict loads strictly and re-saves identically', async () => {
  const sd = io.loadSafetensors(FIX + 'lenet5.safetensors');
  const m = models.lenet5();
  m.loadStateDict(sd);
  const w = await m.stateDict()['fc2.weight'].read();
  assert.equal([...w], [...(await sd['fc2.weight'].read())]);
  const path = tmp('lenet.safetensors');
  await io.saveSafetensors(path, m.stateDict(), { format: 'pt', model: 'lenet5' });
  assert.ok(readFileSync(path).equals(readFileSync(FIX + 'lenet5.safetensors')), 'byte-identical to the file torch wrote');
  m.dispose();
  for (const v of Object.values(sd)) v.dispose();
});

function expectError(bytes, re, name) {
  const path = tmp(name + '.safetensors');
  writeFileSync(path, bytes);
  try {
    io.loadSafetensors(path);
  } catch (e) {
    assert.is(e.name, 'SafetensorsError', `${name}: ${e.message}`);
    assert.ok(e.message.includes(path), `${name}: message names the file: ${e.message}`);
    assert.match(e.message, re, name);
    return;
  }
  assert.unreachable(`${name}: no error`);
}

function build(headerObj, dataBytes, { rawHeader, lenOverride } = {}) {
  const h = Buffer.from(rawHeader ?? JSON.stringify(headerObj));
  const b = Buffer.alloc(8 + h.length + dataBytes);
  b.writeBigUInt64LE(BigInt(lenOverride ?? h.length), 0);
  h.copy(b, 8);
  return b;
}

test('bad files give clear errors naming the file', () => {
  const good = readFileSync(FIX + 'lenet5_io.safetensors');
  expectError(good.subarray(0, 5), /too short/, 'tiny');
  expectError(good.subarray(0, good.length - 10), /beyond|cover/, 'truncated');
  expectError(good.subarray(0, 100), /header length .* beyond the end/, 'truncated-header');
  expectError(build({}, 0, { lenOverride: 2 ** 40 }), /beyond the end/, 'huge-length');
  const e = (o) => ({ dtype: 'F32', shape: [2], data_offsets: o });
  expectError(build({ a: e([0, 8]), b: e([4, 12]) }, 12), /overlaps/, 'overlap');
  expectError(build({ a: e([0, 8]), b: e([12, 20]) }, 20), /belong to no tensor/, 'hole');
  expectError(build({ a: e([0, 8]) }, 4), /beyond the 4 data bytes/, 'out-of-range');
  expectError(build({ a: e([0, 8]) }, 12), /cover 8 of the 12/, 'trailing');
  expectError(build({ a: e([0, 4]) }, 4), /needs 8 bytes/, 'size-mismatch');
  expectError(build({ a: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, 4), /unknown dtype "F17"/, 'dtype');
  expectError(build({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, 1), /cannot read/, 'unsupported');
  expectError(build({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /invalid shape/, 'shape');
  expectError(build({ a: { dtype: 'F32', shape: [1], data_offsets: [4] } }, 4), /invalid data_offsets/, 'offsets');
  expectError(build(null, 4, { rawHeader: '{"a": {"dtype": "F32",' }), /not valid UTF-8 JSON/, 'json');
  expectError(build(null, 0, { rawHeader: '[1,2]' }), /not a JSON object/, 'array');
  expectError(build({ __metadata__: { a: 1 } }, 0), /not a string/, 'metadata');
  const big = Buffer.alloc(16);
  big.writeBigUInt64LE(2n ** 64n - 1n, 0);
  expectError(big, /beyond the end/, 'u64max');
  const i64 = build({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8);
  i64.writeBigInt64LE(2n ** 40n, i64.length - 8);
  expectError(i64, /outside the i32 range/, 'i64-range');
  try {
    io.loadSafetensors(tmp('missing.safetensors'));
    assert.unreachable();
  } catch (err) {
    assert.match(err.message, /missing\.safetensors: cannot read/);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
