// Worker thread of test/data-fuzz.test.mjs: builds small, valid data sets (IDX raw and
// gzip, CIFAR-10, CIFAR-100, PNG and JPEG image folders), applies seeded mutations one
// at a time and loads each mutated set the way the trainer does (loadDataset, every
// image read, statistics, a batch, the fingerprint). It posts 'start' before a case and
// 'case' after it, so the main thread can bound each case's time and kill a hang.
// Outcome of a case: 'loaded' (a well-formed data set), 'DataError' (whose message names
// the mutated file), or 'bad' (anything else: another exception type, a DataError not
// naming the file, or a malformed result).
import { parentPort, workerData } from 'node:worker_threads';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { tmp, writeIdxSet, writeCifar10, writeCifar100, pngBytes, jpegBytes, crc32 } from './datasets.mjs';
import { mulberry32 } from './mulberry.mjs';

const { dist, seed, perFamily } = workerData;
const lib = await import(pathToFileURL(join(dist, 'index.js')).href);
const { data } = lib;

// mulberry32, seeded: every mutation is a function of (seed, case index)
const rng = mulberry32;

const root = tmp('fn-fuzz-');
const files = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });

// ---- the valid bases ----
const bases = {};
{
  const d = join(root, 'base-idx-raw');
  writeIdxSet(d, { n: 6, m: 4, h: 6, w: 6, gzipTrain: false, gzipTest: false, seed: 11 });
  bases['idx-raw'] = { dir: d, opts: {} };
  const g = join(root, 'base-idx-gz');
  writeIdxSet(g, { n: 6, m: 4, h: 6, w: 6, gzipTrain: true, gzipTest: true, seed: 12 });
  bases['idx-gzip'] = { dir: g, opts: {} };
  const c10 = join(root, 'base-cifar10');
  writeCifar10(c10, [2, 1], 2, 13);
  bases.cifar10 = { dir: c10, opts: {} };
  const c100 = join(root, 'base-cifar100');
  writeCifar100(c100, 3, 2, 14);
  bases.cifar100 = { dir: c100, opts: {} };
  for (const kind of ['png', 'jpeg']) {
    const d2 = join(root, `base-${kind}`);
    const enc = kind === 'png' ? (w, h, f) => pngBytes(w, h, f) : (w, h, f) => jpegBytes(w, h, f);
    const ext = kind === 'png' ? 'png' : 'jpg';
    const put = (rel, w, h, k) => {
      mkdirSync(join(d2, rel, '..'), { recursive: true });
      writeFileSync(join(d2, rel), enc(w, h, (x, y) => [(x * 37 + k * 50) % 256, (y * 53 + k * 20) % 256, (x * y * 7 + k) % 256]));
    };
    put(`train/cat/a.${ext}`, 6, 5, 1);
    put(`train/cat/b.${ext}`, 5, 5, 2);
    put(`train/dog/c.${ext}`, 8, 6, 3);
    put(`val/cat/d.${ext}`, 5, 7, 4);
    put(`val/dog/e.${ext}`, 6, 6, 5);
    bases[kind] = { dir: d2, opts: { imageSize: 4 } };
  }
}

// ---- mutations: each returns a description and writes the mutated bytes ----
const u32be = (b, at, v) => {
  b[at] = (v >>> 24) & 255;
  b[at + 1] = (v >>> 16) & 255;
  b[at + 2] = (v >>> 8) & 255;
  b[at + 3] = v & 255;
};
const u16be = (b, at, v) => {
  b[at] = (v >>> 8) & 255;
  b[at + 1] = v & 255;
};
const fieldValue = (r, orig) => r.pick([0, 1, 0xffffffff, 0x7fffffff, 0x80000000, orig + 1, Math.max(0, orig - 1), orig * 2, 65535, 30000, r.int(64)]);

function truncate(r, b) {
  const n = r.int(b.length);
  return { bytes: b.subarray(0, n), what: `truncated to ${n} of ${b.length} bytes` };
}
function flips(r, b, from = 0, to = b.length) {
  const out = Uint8Array.from(b);
  const k = 1 + r.int(8);
  const at = [];
  for (let i = 0; i < k; i++) {
    const p = from + r.int(Math.max(1, to - from));
    out[p] ^= 1 << r.int(8);
    at.push(p);
  }
  return { bytes: out, what: `${k} bit flips at ${at.join(',')}` };
}

function mutateIdxRaw(r, b) {
  const kind = r.int(4);
  if (kind === 0) return truncate(r, b);
  if (kind === 1) return flips(r, b);
  const out = Uint8Array.from(b);
  const nd = out[3];
  if (kind === 2) {
    // magic, type or dimension count
    const at = r.int(4);
    const v = r.pick([0, 1, 2, 3, 4, 5, 0x08, 0x09, 0x0d, 255]);
    out[at] = v;
    return { bytes: out, what: `header byte ${at} set to ${v}` };
  }
  const d = r.int(Math.max(1, Math.min(nd, 4)));
  const orig = (b[4 + 4 * d] << 24) | (b[5 + 4 * d] << 16) | (b[6 + 4 * d] << 8) | b[7 + 4 * d];
  const v = fieldValue(r, orig >>> 0) >>> 0;
  u32be(out, 4 + 4 * d, v);
  return { bytes: out, what: `dimension ${d} set from ${orig >>> 0} to ${v}` };
}

function mutateGzip(r, gz) {
  const kind = r.int(7);
  if (kind === 0) return truncate(r, gz);
  if (kind === 1) {
    const f = flips(r, gz, 10, gz.length - 8);
    return { bytes: f.bytes, what: `deflate data: ${f.what}` };
  }
  if (kind === 2) return { ...flips(r, gz, gz.length - 8, gz.length), what: 'trailer bit flips' };
  if (kind === 3) {
    const out = Uint8Array.from(gz);
    const at = r.pick([2, 3, 8, 9]);
    const v = r.int(256);
    out[at] = v;
    return { bytes: out, what: `gzip header byte ${at} set to ${v}` };
  }
  if (kind === 4) {
    const extra = Uint8Array.from({ length: 1 + r.int(16) }, () => r.int(256));
    const out = new Uint8Array(gz.length + extra.length);
    out.set(gz);
    out.set(extra, gz.length);
    return { bytes: out, what: `${extra.length} garbage bytes appended` };
  }
  if (kind === 5) {
    const out = new Uint8Array(2 * gz.length);
    out.set(gz);
    out.set(gz, gz.length);
    return { bytes: out, what: 'member duplicated' };
  }
  // the content's header fields, recompressed: the gzip is fine, the IDX inside is not
  const raw = data.gunzip(gz, 'base');
  const m = mutateIdxRaw(r, raw);
  return { bytes: new Uint8Array(gzipSync(m.bytes)), what: `inside the gzip: ${m.what}` };
}

function mutateCifar(r, b, labelBytes) {
  const kind = r.int(5);
  if (kind === 0) return truncate(r, b);
  if (kind === 1) return flips(r, b);
  const out = Uint8Array.from(b);
  const record = labelBytes + 3072;
  if (kind === 2) {
    const rec = r.int(b.length / record);
    const at = rec * record + r.int(labelBytes);
    const v = r.pick([255, 10, 19, 20, 99, 100, 128, 0]);
    out[at] = v;
    return { bytes: out, what: `label byte of record ${rec} set to ${v}` };
  }
  if (kind === 3) {
    const extra = 1 + r.int(record + 10);
    const grown = new Uint8Array(b.length + extra);
    grown.set(b);
    return { bytes: grown, what: `${extra} zero bytes appended` };
  }
  return { bytes: new Uint8Array(0), what: 'emptied' };
}

function mutatePng(r, b) {
  const kind = r.int(5);
  if (kind === 0) return truncate(r, b);
  if (kind === 1) return flips(r, b);
  const out = Uint8Array.from(b);
  if (kind === 2 || kind === 3) {
    // IHDR width/height (kind 2, CRC fixed so only our header check or the decoder can object) or depth/colour type (kind 3)
    let what;
    if (kind === 2) {
      const at = r.pick([16, 20]);
      const v = fieldValue(r, at === 16 ? 6 : 5) >>> 0;
      u32be(out, at, v);
      what = `IHDR ${at === 16 ? 'width' : 'height'} set to ${v}`;
    } else {
      const at = r.pick([24, 25, 26, 27, 28]);
      const v = r.pick([0, 1, 2, 3, 4, 6, 7, 16, 255]);
      out[at] = v;
      what = `IHDR byte ${at} set to ${v}`;
    }
    u32be(out, 29, crc32(out.subarray(12, 29)));
    return { bytes: out, what: `${what} (CRC fixed)` };
  }
  if (kind === 4) {
    // a chunk length field
    const at = 33 + 0; // the chunk after IHDR
    const v = fieldValue(r, (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
    u32be(out, at, v);
    return { bytes: out, what: `second chunk length set to ${v}` };
  }
}

function mutateJpeg(r, b) {
  const kind = r.int(4);
  if (kind === 0) return truncate(r, b);
  if (kind === 1) return flips(r, b);
  const out = Uint8Array.from(b);
  const sof = b.findIndex((x, i) => x === 0xff && b[i + 1] === 0xc0);
  if (kind === 2) {
    const at = r.pick([sof + 5, sof + 7]);
    const v = r.pick([0, 1, 2, 3, 65535, 30000, 16385, 9, 100]);
    u16be(out, at, v);
    return { bytes: out, what: `SOF0 ${at === sof + 5 ? 'height' : 'width'} set to ${v}` };
  }
  // a segment length: the first segment after SOI, or SOF0's own
  const at = r.pick([4, sof + 2]);
  const v = r.pick([0, 1, 2, 65535, 300, 17]);
  u16be(out, at, v);
  return { bytes: out, what: `segment length at ${at} set to ${v}` };
}

function mutate(family, r, file, b) {
  if (family === 'idx-raw') return mutateIdxRaw(r, b);
  if (family === 'idx-gzip') return mutateGzip(r, b);
  if (family === 'cifar10') return mutateCifar(r, b, 1);
  if (family === 'cifar100') return mutateCifar(r, b, 2);
  if (family === 'png') return mutatePng(r, b);
  return mutateJpeg(r, b);
}

// ---- loading as the trainer does, and what a well-formed result is ----
function loadFully(dir, opts) {
  const ds = data.loadDataset(dir, opts);
  const problems = [];
  for (const [name, s] of [['train', ds.train], ['test', ds.test]]) {
    if (!(s.n > 0)) problems.push(`${name} has ${s.n} images`);
    if (!(s.c > 0 && s.h > 0 && s.w > 0 && s.h === s.w)) problems.push(`${name} images are ${s.c}×${s.h}×${s.w}`);
    if (s.labels.length < s.n) problems.push(`${name} has ${s.labels.length} labels for ${s.n} images`);
    for (let i = 0; i < s.n; i++) if (!(s.labels[i] >= 0 && s.labels[i] < ds.numClasses)) problems.push(`${name} label ${s.labels[i]} of image ${i}`);
    const px = new Uint8Array(s.c * s.h * s.w);
    for (let i = 0; i < s.n; i++) s.readImage(i, px, 0);
  }
  if (ds.train.c !== ds.test.c || ds.train.h !== ds.test.h) problems.push('train and test shapes differ');
  if (ds.classNames.length !== ds.numClasses) problems.push(`${ds.classNames.length} class names for ${ds.numClasses} classes`);
  const norm = data.channelStats(ds.train);
  if (![...norm.mean, ...norm.std].every(Number.isFinite)) problems.push(`normalisation ${JSON.stringify(norm)}`);
  const loader = new data.Loader(ds.train, { batchSize: 4, shuffle: true, norm, seed: 1 });
  loader.startEpoch(1, 0);
  const batch = loader.batch(0);
  if (!batch.x.every(Number.isFinite)) problems.push('a batch has non-finite values');
  if (!/^[0-9a-f]{64}$/.test(data.fingerprint(ds).hash)) problems.push('no fingerprint');
  return problems;
}

const families = Object.keys(bases);
const counts = {};
let index = 0;
for (const family of families) {
  counts[family] = { loaded: 0, DataError: 0, bad: 0 };
  const base = bases[family];
  const baseFiles = files(base.dir);
  for (let k = 0; k < perFamily; k++, index++) {
    const r = rng(seed * 1000003 + index);
    const dir = join(root, `case-${index}`);
    cpSync(base.dir, dir, { recursive: true });
    const target = r.pick(baseFiles.filter((f) => family !== 'idx-gzip' || f.endsWith('.gz')));
    const file = join(dir, relative(base.dir, target));
    const m = mutate(family, r, file, new Uint8Array(readFileSync(target)));
    writeFileSync(file, m.bytes);
    const desc = `${family} #${k}: ${relative(dir, file)} ${m.what}`;
    parentPort.postMessage({ type: 'start', index, desc });
    const t0 = performance.now();
    let outcome;
    let detail = '';
    try {
      const problems = loadFully(dir, base.opts);
      outcome = problems.length ? 'bad' : 'loaded';
      detail = problems.join('; ');
    } catch (e) {
      if (e instanceof data.DataError && e.message.includes(file)) {
        outcome = 'DataError';
        detail = e.message.slice(dir.length + 1);
      }
      else {
        outcome = 'bad';
        detail = `${e && e.name}: ${e && e.message}${e instanceof data.DataError ? ' (does not name the mutated file)' : `\n${e && e.stack}`}`;
      }
    }
    const ms = performance.now() - t0;
    counts[family][outcome]++;
    parentPort.postMessage({ type: 'case', index, desc, outcome, detail, ms });
    rmSync(dir, { recursive: true, force: true });
  }
}
rmSync(root, { recursive: true, force: true });
parentPort.postMessage({ type: 'done', counts });
