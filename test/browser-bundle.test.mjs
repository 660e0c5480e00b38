// The browser build (dist/browser.js, issue 14): one self-contained ES module, with the WGSL
// embedded, that imports nothing (so no Node built-in and no `webgpu`), holds no Node-only
// package and no src/platform/node*, uses neither `process` nor `Buffer` outside two guarded
// spots in packages (listed below, each checked to be guarded), loads, and says plainly what a
// page cannot do: init() without navigator.gpu, and every file function, throw an InputError
// naming the function and what to use instead. package.json resolves 'focusnet' to it under
// the `browser` condition. The source graph behind it is checked too: every file the browser
// entry reaches imports no Node built-in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { distDir } from './helpers/lib.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const file = join(distDir, 'browser.js');
const text = readFileSync(file, 'utf8');

/** Packages that may reach `process` or `Buffer`, where and why that is safe in a page. */
const GUARDED = [
  { input: 'node_modules/pathe/', name: 'process', guard: 'typeof process !== "undefined"', why: "pathe's cwd() reads process.cwd only where process exists" },
  { input: 'node_modules/jpeg-js/lib/decoder.js', name: 'Buffer', guard: 'opts.useTArray ?', why: 'jpeg-js allocates a Buffer only when useTArray is false; src/data/decode.ts passes true' },
];
const NODE_ONLY = ['node_modules/webgpu/', 'node_modules/cli-progress/', 'node_modules/pngjs/', 'src/platform/node', 'src/cli.ts', 'src/index.ts'];

/** The bundle split by esbuild's `// <input path>` section comments: { input, code }. */
function sections(js) {
  const out = [];
  let cur = { input: '(prelude)', code: '' };
  for (const line of js.split('\n')) {
    const m = /^\/\/ ((?:src|node_modules|kernels)\/\S+)$/.exec(line);
    if (m) out.push((cur = { input: m[1], code: '' }));
    else cur.code += line + '\n';
  }
  return out;
}

test('dist/browser.js imports nothing: no node: or built-in module, no webgpu, no package left unbundled', () => {
  assert.ok(text.length > 100_000, `the bundle is ${text.length} bytes`);
  const imports = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm), ...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g), ...text.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  assert.equal(imports, [], `the bundle imports ${imports.join(', ')}`);
  const builtins = new Set(builtinModules);
  assert.not.match(text, /["']node:[a-z_/]+["']/, 'a node: specifier is in the bundle');
  for (const s of sections(text)) {
    for (const bad of NODE_ONLY) assert.not.ok(s.input.startsWith(bad), `${s.input} (Node only) is in the browser bundle`);
  }
  assert.ok(!builtins.has('webgpu'));
  assert.ok(sections(text).some((s) => s.input.startsWith('src/platform/browser.ts')), 'the browser platform is in it');
  // the kernels are in it as text
  for (const k of ['@compute', 'fn main', 'var<storage']) assert.ok(text.includes(k), `no WGSL (${k}) in the bundle`);
  assert.ok(/^export \{/m.test(text), 'it is an ES module with exports');
});

test("no process or Buffer in the browser build's graph, except the guarded uses listed here", async () => {
  // the same build, with every free `process` and `Buffer` renamed: what is left names each use
  const r = await build({
    entryPoints: [join(root, 'src/index.browser.ts')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022',
    loader: { '.wgsl': 'text' }, write: false, logLevel: 'silent', metafile: true,
    define: { process: '__FREE_PROCESS__', Buffer: '__FREE_BUFFER__' },
  });
  const found = [];
  for (const s of sections(r.outputFiles[0].text)) {
    for (const [tag, name] of [['__FREE_PROCESS__', 'process'], ['__FREE_BUFFER__', 'Buffer']]) {
      if (!s.code.includes(tag)) continue;
      const g = GUARDED.find((x) => s.input.startsWith(x.input) && x.name === name);
      if (!g) found.push(`${s.input} uses ${name}`);
      else assert.ok(s.code.replaceAll(tag, name).includes(g.guard), `${s.input}: its ${name} is no longer behind "${g.guard}" (${g.why})`);
    }
  }
  assert.equal(found, [], found.join('\n'));
  // the graph: every source file the browser entry reaches, none Node-only
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.filter((i) => i.startsWith('src/')).length > 80, 'the whole library is in the graph');
  for (const i of inputs) for (const bad of NODE_ONLY) assert.not.ok(i.startsWith(bad), `${i} is reached from src/index.browser.ts`);
  for (const must of ['src/api.ts', 'src/train/stage.ts', 'src/viz/cam.ts', 'src/io/safetensors.ts', 'src/data/png.ts']) assert.ok(inputs.includes(must), `${must} is in the browser build`);
});

test("package.json resolves 'focusnet' to the browser build under the browser condition, and names it for a page", async () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dot = pkg.exports['.'];
  const keys = Object.keys(dot);
  assert.is(dot.browser, './dist/browser.js');
  assert.ok(keys.indexOf('browser') < keys.indexOf('import'), 'browser comes before import (conditions match in order)');
  assert.is(pkg.exports['./browser'].default, './dist/browser.js');
  // esbuild, resolving 'focusnet' as a bundler for a page does, picks it; for Node the Node build
  const app = mkdtempSync(join(tmpdir(), 'fn-app-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(root, join(app, 'node_modules', 'focusnet'), 'dir');
  try {
    for (const [platform, want] of [['browser', 'dist/browser.js'], ['node', 'dist/index.js']]) {
      const r = await build({
        stdin: { contents: "import 'focusnet';", resolveDir: app }, bundle: true, write: false, platform, format: 'esm',
        metafile: true, logLevel: 'silent', absWorkingDir: root, external: ['webgpu'],
      });
      const got = Object.keys(r.metafile.inputs).filter((i) => i.startsWith('dist/'));
      assert.equal(got, [want], `${platform}: 'focusnet' resolves to ${got}`);
    }
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

test('it loads; without navigator.gpu init() says how to enable WebGPU; file functions say what a page uses instead', async () => {
  const web = await import(pathToFileURL(file).href);
  for (const k of ['init', 'tensor', 'ops', 'nn', 'models', 'losses', 'optim', 'io', 'data', 'train', 'viz']) assert.ok(web[k], `${k} is exported`);
  // Node has no navigator.gpu: the page's failure, with the page's hint
  let err;
  try {
    await web.init();
  } catch (e) {
    err = e;
  }
  assert.instance(err, web.NoAdapterError);
  assert.match(err.message, /navigator\.gpu/);
  assert.match(err.message, /--enable-unsafe-webgpu/);
  assert.match(err.message, /secure context/);
  assert.not.match(err.message, /lavapipe|apt-get/, 'not the Node hint');
  // the byte functions work without a GPU
  const bytes = web.io.encodeSafetensors({ w: { shape: [2, 2], data: Float32Array.of(1, -2, 3.5, 4) } }, { arch: 'x' });
  const back = web.io.decodeSafetensors(bytes, 'w.safetensors');
  assert.equal([...back.tensors.w.data], [1, -2, 3.5, 4]);
  assert.equal(web.train.checkpointFromBytes(bytes, 'w.safetensors').info.kind, 'state-dict');
  // every file function: an InputError naming it and the page's way
  const cases = [
    [() => web.io.saveSafetensors('m.safetensors', {}), /io\.saveSafetensors needs Node's file system.*io\.encodeSafetensors/],
    [() => web.io.loadSafetensors('m.safetensors'), /io\.loadSafetensors needs Node.*io\.decodeSafetensors/],
    [() => web.io.readSafetensorsMetadata('m.safetensors'), /io\.readSafetensorsMetadata needs Node/],
    [() => web.train.readCheckpoint('m.safetensors'), /train\.readCheckpoint needs Node.*train\.checkpointFromBytes/],
    [() => web.train.loadModelFile('m.safetensors', { arch: 'mlp', numClasses: 2, inChannels: 1, imageSize: 4 }), /train\.loadModelFile needs Node.*checkpointFromBytes/],
    [() => web.train.saveModelFile('m.safetensors', null, {}), /train\.saveModelFile needs Node.*train\.encodeModelFile/],
    [() => web.train.train({ data: 'd', out: 'o', arch: 'mlp', loss: 'ce', epochs: 1, batchSize: 8, lr: 0.1, seed: 1 }), /train\.train needs Node.*data\.idxDataset/],
    [() => web.data.loadDataset('/data'), /data\.loadDataset needs Node.*data\.idxDataset/],
    [() => web.data.readIdx('x-idx3-ubyte'), /data\.readIdx needs Node/],
    [() => web.data.decodeImage('a.png'), /data\.decodeImage needs Node.*decodeImageBytes/],
    [() => new web.viz.Canvas(2, 2).writePng('a.png'), /viz\.Canvas\.writePng needs Node.*toPng/],
    [() => web.viz.writeReport('run'), /viz\.writeReport needs Node/],
    [() => new web.experiment.Ledger('out'), /experiment\.\w+ needs Node.*focusnet experiment/],
  ];
  for (const [fn, re] of cases) {
    let e;
    try {
      await fn();
    } catch (x) {
      e = x;
    }
    assert.ok(e, `${re} was not thrown`);
    assert.instance(e, web.InputError, `${e?.message}`);
    assert.match(e.message.replace(/\n/g, ' '), re);
  }
  // PNG bytes are made in the page as in Node
  const png = new web.viz.Canvas(3, 2, [1, 2, 3]).toPng();
  assert.equal([...web.data.decodePng(png).data.subarray(0, 4)], [1, 2, 3, 255]);
});

test.run();
