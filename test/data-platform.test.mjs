// The byte side of the data layer (issue 14): every file of src/data outside node/ (the file
// access, through the platform seam) and outside the two entry points that gather node/
// (index.ts and dataset.ts) works on bytes alone. Two checks: a source scan that follows
// those files' relative imports and refuses any Node built-in, any package but the portable
// ones, any import of src/data/node/, and Buffer / process / require / __dirname; and an
// esbuild bundle of src/data/core.ts for the browser platform, which is then imported and
// must parse an IDX data set and decode PNG images from bytes exactly as the library's
// loadDataset and decodeImage read them from disk. (test/browser-bundle.test.mjs checks the
// whole library's browser build.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import lib from './helpers/lib.mjs';
import { tmp, writeIdxSet, pngBytes, jpegBytes } from './helpers/datasets.mjs';

const { data } = lib;
const root = resolve(new URL('..', import.meta.url).pathname);
const dataDir = join(root, 'src/data');
/** File-access files of src/data: the node/ folder and the two entry points that gather it. */
const isNodeSide = (f) => f.startsWith(join(dataDir, 'node') + '/') || f === join(dataDir, 'index.ts') || f === join(dataDir, 'dataset.ts');
/** Packages platform-free code may import: pure JavaScript, no Node built-ins. */
const PORTABLE = [/^fflate$/, /^fast-png$/, /^jpeg-js\/lib\/decoder\.js$/, /^image-size\/types\/(png|jpg)$/, /^@noble\/hashes\/(sha2|utils)$/];
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function tsFiles(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const stripComments = (src) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

/** The problems of one source text (its own lines only; `file` for messages). */
function problemsOf(src, file) {
  const code = stripComments(src);
  const out = [];
  // (type-only imports vanish from the build)
  const specs = [...code.matchAll(/(?:^|[\s;])(?:import|export)\b(?!\s+type\b)[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g), ...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g), ...code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  const relatives = [];
  for (const s of specs) {
    if (s.startsWith('.')) {
      const target = resolve(dirname(file), s.replace(/\.js$/, '.ts'));
      if (isNodeSide(target)) out.push(`imports the Node-side ${relative(root, target)}`);
      relatives.push(target);
    } else if (NODE_BUILTINS.has(s) || s.startsWith('node:')) out.push(`imports the Node built-in '${s}'`);
    else if (!PORTABLE.some((re) => re.test(s))) out.push(`imports '${s}', not one of the portable packages`);
  }
  for (const [re, what] of [[/\bBuffer\b/, 'Buffer'], [/\bprocess\s*\./, 'process'], [/\brequire\s*\(/, 'require()'], [/\b__dirname\b|\b__filename\b/, '__dirname/__filename']]) {
    if (re.test(code)) out.push(`uses ${what}`);
  }
  return { out, relatives };
}

/** Scan the platform-free files and everything they import, transitively. */
function scan() {
  const start = tsFiles(dataDir).filter((f) => !isNodeSide(f));
  const seen = new Set();
  const problems = [];
  const queue = [...start];
  while (queue.length) {
    const f = queue.shift();
    if (seen.has(f)) continue;
    seen.add(f);
    const { out, relatives } = problemsOf(readFileSync(f, 'utf8'), f);
    for (const p of out) problems.push(`${relative(root, f)}: ${p}`);
    queue.push(...relatives);
  }
  return { start, seen, problems };
}

test('the scan itself: it flags Node built-ins, Buffer, process, node/ imports and unknown packages', () => {
  const f = join(dataDir, 'probe.ts');
  const flagged = (src) => problemsOf(src, f).out;
  assert.equal(flagged("import { readFileSync } from 'node:fs';").length, 1);
  assert.equal(flagged("import { gunzipSync } from 'zlib';").length, 1);
  assert.equal(flagged("import { PNG } from 'pngjs';").length, 1);
  assert.equal(flagged("export { loadDataset } from './node/load.js';").length, 1);
  assert.equal(flagged('const b = Buffer.from([1]);').length, 1);
  assert.equal(flagged('const e = process.env.X;').length, 1);
  assert.equal(flagged("const m = await import('node:path');").length, 1);
  assert.equal(flagged("// import { readFileSync } from 'node:fs'\nimport { Gunzip } from 'fflate';\nimport type { Split } from './split.js';").length, 0, 'comments and portable imports pass');
});

test('platform-free files of src/data import no Node module, transitively', () => {
  const { start, seen, problems } = scan();
  assert.ok(start.length >= 12, `found only ${start.length} platform-free files: ${start.map((f) => relative(root, f)).join(', ')}`);
  for (const want of ['idx.ts', 'cifar.ts', 'gzip.ts', 'loader.ts', 'split.ts', 'assemble.ts', 'fingerprint.ts', 'image-header.ts', 'resize.ts', 'core.ts', 'errors.ts']) {
    assert.ok(start.includes(join(dataDir, want)), `${want} is among the platform-free files`);
  }
  assert.ok([...seen].some((f) => f.includes('/src/util/')), 'the scan follows imports outside src/data');
  assert.equal(problems, [], problems.join('\n'));
});

test('core.ts bundles for the browser platform, and the bundle parses IDX bytes like loadDataset', async () => {
  const r = await build({
    entryPoints: [join(dataDir, 'core.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((i) => i.includes('node_modules/fflate')), 'fflate is in the bundle');
  assert.ok(inputs.some((i) => i.includes('node_modules/fast-png')), 'fast-png is in the bundle');
  for (const bad of ['pngjs', 'webgpu', 'src/data/node/', 'jpeg-js/lib/encoder', 'jpeg-js/index']) assert.not.ok(inputs.some((i) => i.includes(bad)), `${bad} is not in the browser bundle`);
  const js = r.outputFiles[0].text;
  assert.not.match(js, /from\s*["'](node:)?(fs|path|zlib|os|url|module)["']/, 'no Node import left in the bundle');
  const file = join(tmp(), 'data-core.browser.mjs');
  writeFileSync(file, js);
  const core = await import(pathToFileURL(file).href);
  const dir = tmp();
  writeIdxSet(dir, { n: 9, m: 4, h: 5, w: 5, gzipTrain: false, gzipTest: true });
  const named = (n) => ({ name: join(dir, n), bytes: new Uint8Array(readFileSync(join(dir, n))) });
  const fromBytes = core.idxDataset(
    {
      trainImages: named('train-images-idx3-ubyte'),
      trainLabels: named('train-labels-idx1-ubyte'),
      testImages: named('t10k-images-idx3-ubyte.gz'),
      testLabels: named('t10k-labels-idx1-ubyte.gz'),
    },
    dir,
  );
  const fromDisk = data.loadDataset(dir);
  assert.equal([...fromBytes.train.labels], [...fromDisk.train.labels]);
  assert.equal([...fromBytes.test.images], [...fromDisk.test.images]);
  assert.is(core.fingerprint(fromBytes).hash, data.fingerprint(fromDisk).hash, 'same fingerprint in both builds');
  // images decode from bytes as the library reads them from disk (the same codec in both builds)
  const png = join(dir, 'img.png');
  writeFileSync(png, pngBytes(7, 5, (x, y) => [x * 30, y * 50, (x * y * 17) % 256]));
  const jpg = join(dir, 'img.jpg');
  writeFileSync(jpg, jpegBytes(9, 6, (x, y) => [x * 25, 200 - y * 30, 90]));
  for (const f of [png, jpg]) {
    const a = core.decodeImageBytes(new Uint8Array(readFileSync(f)), f);
    const b = data.decodeImage(f);
    assert.equal([a.width, a.height, [...a.data]], [b.width, b.height, [...b.data]], `${f} decodes alike`);
    assert.ok(a.data.some((v) => v > 0), 'not all zero');
  }
  // and its errors are DataErrors naming the file, as in Node
  const broken = named('t10k-images-idx3-ubyte.gz');
  broken.bytes = broken.bytes.subarray(0, broken.bytes.length - 9);
  try {
    core.idxSplit(broken, named('t10k-labels-idx1-ubyte.gz'), 10);
    assert.unreachable('a truncated gzip file parsed');
  } catch (e) {
    assert.instance(e, core.DataError);
    assert.match(e.message, /t10k-images-idx3-ubyte\.gz: corrupt or truncated gzip data/);
  }
});

test.run();
