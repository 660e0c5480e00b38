// Robustness of the data layer (issue 12): image limits read from the header before any
// decoding, the decoded-size cap of an image-folder split, broken links, FIFOs and folders
// where images should be, empty / non-square / mismatched splits, gzip integrity and
// output limits, and the data-set fingerprint that `--resume` compares.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, readFileSync, symlinkSync, cpSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import lib from './helpers/lib.mjs';
import { tmp, idxBytes, writeIdxSet, writeCifar10, pngBytes, jpegBytes, pngDeclaring, jpegDeclaring, writeImageFolder, crc32 } from './helpers/datasets.mjs';

const { data } = lib;

function throwsData(fn, pattern, what) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof data.DataError, `${what}: expected a DataError, got ${e && e.name}: ${e && e.message}`);
    assert.match(e.message, pattern, `${what}: message ${JSON.stringify(e.message)}`);
    return e;
  }
  assert.unreachable(`${what}: did not throw`);
}

const readAll = (split) => {
  const a = new Uint8Array(split.c * split.h * split.w);
  for (let i = 0; i < split.n; i++) split.readImage(i, a, 0);
};

const smallPng = () => pngBytes(5, 4, (x, y) => [x * 40, y * 50, 100 + x + y]);
const smallJpeg = () => jpegBytes(8, 8, (x, y) => [x * 20, 200 - y * 10, 90]);

test('a PNG declaring 30,000×30,000 pixels fails fast, naming the file and the limit', () => {
  const bomb = pngDeclaring(30000, 30000);
  assert.ok(bomb.length < 200, `the probe is ${bomb.length} bytes`);
  const dir = writeImageFolder(tmp(), { 'train/a/ok.png': smallPng(), 'train/a/bomb.png': bomb, 'val/a/v.png': smallPng() });
  const ds = data.loadDataset(dir, { imageSize: 4 });
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  throwsData(() => readAll(ds.train), /train\/a\/bomb\.png: image is 30000×30000 pixels, over the limit of 16384 pixels per side/, 'side limit');
  const ms = performance.now() - t0;
  assert.ok(ms < 250, `refused in ${ms.toFixed(1)} ms`);
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 2 ** 20, 'no large allocation');
  // under the side limit but over the pixel limit (64 megapixels)
  throwsData(() => data.decodeImageBytes(pngDeclaring(16000, 16000), 'big.png'), /big\.png: image is 16000×16000 = 256\.0 megapixels, over the limit of 67\.1 megapixels per image/, 'pixel limit');
  throwsData(() => data.decodeImageBytes(jpegDeclaring(30000, 30000), 'big.jpg'), /big\.jpg: image is 30000×30000 pixels, over the limit of 16384/, 'jpeg side limit');
  throwsData(() => data.decodeImageBytes(jpegDeclaring(12000, 12000), 'big.jpg'), /big\.jpg: image is 12000×12000 = 144\.0 megapixels, over the limit of 67\.1 megapixels/, 'jpeg pixel limit');
  throwsData(() => data.decodeImageBytes(pngDeclaring(0, 4), 'zero.png'), /zero\.png: corrupt or truncated image \(the PNG header declares 0×4 pixels\)/, 'zero width');
  // the limits are options; the header is what counts, whatever the decoder would say
  const dir2 = writeImageFolder(tmp(), { 'train/a/x.png': pngBytes(20, 20, () => [1, 2, 3]), 'val/a/y.png': smallPng() });
  const tight = data.loadDataset(dir2, { imageSize: 4, maxImagePixels: 300 });
  throwsData(() => readAll(tight.train), /x\.png: image is 20×20 = 400 pixels, over the limit of 300 pixels per image/, 'option');
  readAll(data.loadDataset(dir2, { imageSize: 4 }).train);
});

test('images are typed by content: a PNG named .jpg decodes; text named .png is refused', () => {
  const dir = writeImageFolder(tmp(), { 'train/a/really-png.jpg': smallPng(), 'train/b/really-jpeg.png': smallJpeg(), 'val/a/t.png': Buffer.from('hello, not an image') });
  const ds = data.loadDataset(dir, { imageSize: 4 });
  readAll(ds.train);
  throwsData(() => readAll(ds.test), /val\/a\/t\.png: not a PNG or JPEG image/, 'text');
  const h = data.imageHeader(new Uint8Array(smallJpeg()), 'j');
  assert.equal([h.type, h.width, h.height], ['jpeg', 8, 8]);
  throwsData(() => data.imageHeader(new Uint8Array(smallPng()).subarray(0, 20), 'cut.png'), /cut\.png: corrupt or truncated image header/, 'truncated header');
  // a truncated file in a Node Buffer view whose memory goes on (as readFileSync's pooled
  // buffers do): the header reader must not read past the view
  for (const [name, bytes, cutAt] of [['cut.png', smallPng(), 20], ['cut.jpg', smallJpeg(), 100]]) {
    // the whole file sits in the memory after the view: reading past it would find the size
    const pool = Buffer.alloc(8192);
    Buffer.from(bytes).copy(pool, 0);
    throwsData(() => data.imageHeader(pool.subarray(0, cutAt), name), new RegExp(`${name.replace('.', '\\.')}: corrupt or truncated image header`), `${name} in a pooled buffer`);
  }
});

test('a PNG must hold the image data its IHDR declares (pngjs would read uninitialised memory)', () => {
  // 5×5 RGBA image data (5 rows of 1 + 20 bytes) under an IHDR that says 24×5 (CRC fixed): refused the same way every time
  const lying = Buffer.from(pngBytes(5, 5, (x, y) => [x * 40, y * 50, 7]));
  lying.writeUInt32BE(24, 16);
  lying.writeUInt32BE(crc32(lying.subarray(12, 29)), 29);
  for (let i = 0; i < 3; i++) {
    Buffer.allocUnsafe(4096).fill(i * 70); // different garbage in the pool each time
    throwsData(() => data.decodeImageBytes(lying, 'lying.png'), /lying\.png: corrupt or truncated image \(PNG image data inflate to 105 bytes, the 24×5 IHDR declares 485\)/, `try ${i}`);
  }
  // Adam7: 8×8 RGB, 8 bits: passes of 4 + 4 + 7 + 14 + 26 + 52 + 100 bytes; plain: 8 rows of 25
  assert.is(data.pngDataSize(8, 8, 8, 2, 1), 207);
  assert.is(data.pngDataSize(8, 8, 8, 2, 0), 200);
  assert.is(data.pngDataSize(3, 2, 1, 0, 0), 4, '1-bit grey: a filter byte and one byte per row');
  assert.is(data.pngDataSize(3, 2, 16, 6, 0), 2 * (1 + 24));
  // valid images of several kinds still decode
  data.checkPngData(new Uint8Array(smallPng()), 'ok.png');
});

test('the decoded images of one folder split are capped, with the numbers in the message', () => {
  const files = {};
  for (let i = 0; i < 6; i++) files[`train/c${i % 2}/${i}.png`] = smallPng();
  files['val/c0/v.png'] = smallPng();
  const dir = writeImageFolder(tmp(), files);
  // 6 images of 3×32×32 = 18,432 bytes
  throwsData(() => data.loadDataset(dir, { maxSplitBytes: 10000 }), /train: 6 images of 3×32×32 take 18\.0 KiB decoded, over the limit of 9\.77 KiB for one split \(use a smaller --image-size or fewer images\)/, 'cap');
  assert.is(data.loadDataset(dir, { maxSplitBytes: 18432 }).train.n, 6);
  assert.is(data.DEFAULT_MAX_SPLIT_BYTES, 2 ** 31);
  // an image size from a damaged checkpoint or a caller: named, not a zero-pixel split
  for (const bad of [0, -4, 2.5, NaN]) throwsData(() => data.loadDataset(dir, { imageSize: bad }), /needs an image size \(--image-size\) that is a whole number in \[1, 16384\]/, `image size ${bad}`);
});

test('broken links, FIFOs and folders where images or data files should be: a DataError naming them', () => {
  const base = { 'train/a/ok.png': smallPng(), 'val/a/v.png': smallPng() };
  const link = writeImageFolder(tmp(), { ...base, 'train/a/gone.png': (p) => symlinkSync('/nonexistent/fn-target.png', p) });
  throwsData(() => data.loadDataset(link), /train\/a\/gone\.png: broken symbolic link/, 'broken link to an image');
  const cls = writeImageFolder(tmp(), { ...base, 'train/ghost': (p) => symlinkSync('/nonexistent/fn-class', p) });
  throwsData(() => data.loadDataset(cls), /train\/ghost: broken symbolic link/, 'broken link to a class folder');
  // a working link to an image is followed
  const good = writeImageFolder(tmp(), { ...base });
  symlinkSync(join(good, 'train/a/ok.png'), join(good, 'train/a/linked.png'));
  assert.is(data.loadDataset(good).train.n, 2);
  const fifo = writeImageFolder(tmp(), { ...base, 'train/a/pipe.png': (p) => execFileSync('mkfifo', [p]) });
  throwsData(() => data.loadDataset(fifo), /train\/a\/pipe\.png: is not a regular file \(a FIFO, socket or device\)/, 'FIFO image');
  const folderImg = writeImageFolder(tmp(), { ...base, 'train/a/dir.png/x': Buffer.from('x') });
  throwsData(() => data.loadDataset(folderImg), /train\/a\/dir\.png: is not a regular file \(a folder\)/, 'folder named .png');
  // IDX: a FIFO or a broken link in place of a data file would have blocked or crashed the read
  const idx = tmp();
  writeIdxSet(idx, { n: 4, m: 2, h: 4, w: 4, gzipTest: false });
  const labels = join(idx, 'train-labels-idx1-ubyte');
  execFileSync('rm', [labels]);
  execFileSync('mkfifo', [labels]);
  throwsData(() => data.loadDataset(idx), /train-labels-idx1-ubyte: cannot read train labels \(not a regular file\)/, 'FIFO labels');
  execFileSync('rm', [labels]);
  symlinkSync('/nonexistent/fn-labels', labels);
  throwsData(() => data.loadDataset(idx), /train-labels-idx1-ubyte: cannot read train labels \(ENOENT: missing, or a broken symbolic link\)/, 'broken link labels');
  if (process.getuid && process.getuid() !== 0) {
    const locked = writeImageFolder(tmp(), { ...base, 'train/a/locked.png': smallPng() });
    execFileSync('chmod', ['000', join(locked, 'train/a/locked.png')]);
    throwsData(() => data.loadDataset(locked), /locked\.png: cannot read image \(EACCES\)/, 'unreadable');
  }
});

test('empty splits are refused before anything trains, naming the file or folder', () => {
  const dir = tmp();
  writeIdxSet(dir, { n: 4, m: 2, h: 4, w: 4 });
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes([0, 4, 4], []));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([0], []));
  throwsData(() => data.loadDataset(dir), /train-images-idx3-ubyte: the training split has no images/, 'empty IDX train');
  const d2 = tmp();
  writeIdxSet(d2, { n: 4, m: 2, h: 4, w: 4, gzipTest: false });
  writeFileSync(join(d2, 't10k-images-idx3-ubyte'), idxBytes([0, 4, 4], []));
  writeFileSync(join(d2, 't10k-labels-idx1-ubyte'), idxBytes([0], []));
  throwsData(() => data.loadDataset(d2), /t10k-images-idx3-ubyte: the test split has no images/, 'empty IDX test');
  const c = tmp();
  writeCifar10(c, [2], 1);
  writeFileSync(join(c, 'test_batch.bin'), Buffer.alloc(0));
  throwsData(() => data.loadDataset(c), /test_batch\.bin: empty file/, 'empty CIFAR');
  const f = writeImageFolder(tmp(), { 'train/a/x.png': smallPng(), 'val/a/readme.txt': Buffer.from('no images here') });
  throwsData(() => data.loadDataset(f), /val: no \.png\/\.jpg images in its class sub-folders/, 'empty folder split');
  // a caller's own empty split: no NaN statistics
  throwsData(() => data.channelStats(new data.MemorySplit(new Uint8Array(0), new Int32Array(0), 1, 4, 4, 'mine')), /mine: no images to compute the normalisation from/, 'channelStats');
});

test('non-square images and train/test images of different sizes name the file', () => {
  const dir = tmp();
  writeIdxSet(dir, { n: 4, m: 2, h: 28, w: 20 });
  throwsData(() => data.loadDataset(dir), /train-images-idx3-ubyte: images are 28×20 \(height×width\); the models take square images/, '28×20');
  const mix = tmp();
  writeIdxSet(mix, { n: 4, m: 2, h: 8, w: 8 });
  const other = tmp();
  writeIdxSet(other, { n: 4, m: 2, h: 6, w: 6 });
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) writeFileSync(join(mix, f), readFileSync(join(other, f)));
  throwsData(() => data.loadDataset(mix), /t10k-images-idx3-ubyte\.gz: test images are 1×6×6 \(channels×height×width\) but training images are 1×8×8/, 'mismatch');
  const zero = tmp();
  writeIdxSet(zero, { n: 4, m: 2, h: 4, w: 4 });
  writeFileSync(join(zero, 'train-images-idx3-ubyte'), idxBytes([4, 0, 4], []));
  throwsData(() => data.loadDataset(zero), /train-images-idx3-ubyte: images of 0×4 pixels/, 'no pixels');
});

test('gzip: several members load, damaged CRC or length is refused, output is bounded', () => {
  const dir = tmp();
  writeIdxSet(dir, { n: 6, m: 3, h: 4, w: 4, gzipTrain: false, gzipTest: false });
  const raw = readFileSync(join(dir, 'train-images-idx3-ubyte'));
  const two = Buffer.concat([gzipSync(raw.subarray(0, 50)), gzipSync(raw.subarray(50))]);
  assert.equal([...data.gunzip(two, 'two.gz')], [...raw], 'two members');
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), two);
  execFileSync('rm', [join(dir, 'train-images-idx3-ubyte')]);
  assert.is(data.loadDataset(dir).train.n, 6);
  const gz = gzipSync(raw);
  const crc = Buffer.from(gz);
  crc[crc.length - 8] ^= 1;
  throwsData(() => data.gunzip(crc, 'crc.gz'), /crc\.gz: corrupt or truncated gzip data \(member 1: CRC-32 mismatch\)/, 'crc');
  const len = Buffer.from(gz);
  len[len.length - 4] ^= 1;
  throwsData(() => data.gunzip(len, 'len.gz'), /len\.gz: corrupt or truncated gzip data \(member 1: the trailer says/, 'length');
  throwsData(() => data.gunzip(gz.subarray(0, 12), 'cut.gz'), /cut\.gz: corrupt or truncated gzip data/, 'truncated');
  throwsData(() => data.gunzip(Buffer.from([0x1f, 0x8b]), 'magic.gz'), /magic\.gz: corrupt or truncated gzip data/, 'magic only');
  const bomb = gzipSync(Buffer.alloc(8 * 2 ** 20));
  throwsData(() => data.gunzip(bomb, 'bomb.gz', 2 ** 20), /bomb\.gz: gzip data decompresses to more than 1\.00 MiB, the limit for one file/, 'bomb');
  assert.is(data.crc32(new TextEncoder().encode('123456789')), 0xcbf43926, 'CRC-32 check value');
});

test('fingerprint: stable, blind to the folder, sensitive to labels, pixels and splits', () => {
  const a = tmp();
  writeIdxSet(a, { n: 40, m: 12, h: 6, w: 6 });
  const fa = data.fingerprint(data.loadDataset(a));
  assert.equal(Object.keys(fa).sort(), ['dir', 'format', 'hash', 'test', 'train']);
  assert.equal([fa.format, fa.dir, fa.train, fa.test], ['idx', a, 40, 12]);
  assert.match(fa.hash, /^[0-9a-f]{64}$/);
  assert.is(data.fingerprint(data.loadDataset(a)).hash, fa.hash, 'stable');
  const moved = join(tmp(), 'moved');
  cpSync(a, moved, { recursive: true });
  const fm = data.fingerprint(data.loadDataset(moved));
  assert.is(fm.hash, fa.hash, 'same data elsewhere');
  assert.is(data.fingerprintMismatch(fa, fm), null);
  // one label
  const lp = join(moved, 'train-labels-idx1-ubyte');
  const labels = readFileSync(lp);
  labels[8 + 17] = (labels[8 + 17] + 1) % 10;
  writeFileSync(lp, labels);
  const fl = data.fingerprint(data.loadDataset(moved));
  assert.is.not(fl.hash, fa.hash, 'a label changed');
  assert.match(data.fingerprintMismatch(fa, fl), /the run was started on idx data at .*: content hash [0-9a-f]{12}… → [0-9a-f]{12}…$/);
  writeFileSync(lp, readFileSync(join(a, 'train-labels-idx1-ubyte')));
  // one pixel of a sampled image (image 0 always is) of the test split
  const tp = join(moved, 't10k-images-idx3-ubyte.gz');
  const img = Buffer.from(data.gunzip(readFileSync(tp), tp));
  img[16 + 5] ^= 0x40;
  writeFileSync(tp, gzipSync(img));
  assert.is.not(data.fingerprint(data.loadDataset(moved)).hash, fa.hash, 'a pixel changed');
  // another data set
  const b = tmp();
  writeIdxSet(b, { n: 40, m: 10, h: 6, w: 6 });
  const fb = data.fingerprint(data.loadDataset(b));
  assert.match(data.fingerprintMismatch(fa, fb), /12 → 10 test images; content hash/);
  const c = tmp();
  writeCifar10(c, [3], 2);
  assert.match(data.fingerprintMismatch(fa, data.fingerprint(data.loadDataset(c))), /format idx → cifar10; 40 → 3 training images; 12 → 2 test images/);
});

const FASHION = '/usr/share/datasets/fashion-mnist';
test('fingerprint of the real Fashion-MNIST: measured', () => {
  if (!existsSync(join(FASHION, 'train-images-idx3-ubyte.gz'))) {
    console.log('  (Fashion-MNIST not installed: skipped)');
    return;
  }
  let t = performance.now();
  const ds = data.loadDataset(FASHION);
  const loadMs = performance.now() - t;
  t = performance.now();
  const fp = data.fingerprint(ds);
  const fpMs = performance.now() - t;
  console.log(`  Fashion-MNIST: load ${loadMs.toFixed(0)} ms, fingerprint ${fpMs.toFixed(1)} ms (${fp.train} + ${fp.test} images, ${data.FINGERPRINT_SAMPLES} sampled per split) ${fp.hash.slice(0, 16)}…`);
  assert.is(fp.train, 60000);
  assert.is(fp.test, 10000);
  assert.ok(fpMs < 1000, `fingerprint took ${fpMs.toFixed(0)} ms`);
});

test.run();
