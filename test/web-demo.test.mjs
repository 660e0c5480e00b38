// `npm run demo` without a browser: scripts/demo.mjs's flags (a wrong one is exit status 2
// naming it), what it serves (web/, dist/, the run and data folders, /served.json describing
// them, no dotfiles), the port fallback, the command printing its URL and stopping on SIGTERM;
// and the page's own modules: only `focusnet` and relative imports (the page's import map
// names nothing else), and their pure helpers on the Node build.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import lib from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';
import { demoOptions, DemoError, startDemo, describeData, describeRun, DEFAULTS } from '../scripts/demo.mjs';
import { idxRoles, classNames } from '../web/lib/sources.mjs';
import { disagreements, whoIsRight, accuracy } from '../web/lib/predict.mjs';
import { topK } from '../web/lib/inspect.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const script = here('../scripts/demo.mjs');

function demoError(argv) {
  try {
    demoOptions(argv);
  } catch (e) {
    assert.instance(e, DemoError);
    return e.message;
  }
  assert.unreachable(`demoOptions(${argv.join(' ')}) accepted it`);
}

test('demo flags: defaults, and a wrong flag, value or folder named in the message', () => {
  const d = demoOptions([]);
  assert.ok(d.run.endsWith('/runs/focusnet'));
  assert.is(d.data, DEFAULTS.data);
  assert.is(d.port, 8100);
  assert.is(d.portGiven, false);
  const dir = tmp('fn-demo-flags-');
  writeFileSync(join(dir, 'a-file'), 'x');
  assert.is(demoOptions(['--run', dir, '--data', dir, '--port', '9001']).port, 9001);
  assert.match(demoError(['--bogus']), 'unknown flag --bogus');
  assert.match(demoError(['--run']), '--run needs a value');
  assert.match(demoError(['extra']), 'unexpected argument');
  assert.match(demoError(['--port', 'abc']), '--port abc: expected a whole number');
  assert.match(demoError(['--port', '70000']), '--port 70000');
  assert.match(demoError(['--run', join(dir, 'nope')]), `--run ${join(dir, 'nope')}: no such folder`);
  assert.match(demoError(['--data', join(dir, 'a-file')]), 'is a file, not a folder');
  for (const argv of [['--bogus'], ['--run', join(dir, 'nope')]]) {
    const r = spawnSync(process.execPath, [script, ...argv], { encoding: 'utf8' });
    assert.is(r.status, 2, `demo ${argv.join(' ')}: status ${r.status}`);
    assert.match(r.stderr, argv[0]);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('what the demo serves: the page, the build, the run and data folders, /served.json', async () => {
  const data = tmp('fn-demo-data-');
  writeIdxSet(data, { n: 8, m: 4, h: 28, w: 28 });
  writeFileSync(join(data, '.secret'), 'no');
  const run = tmp('fn-demo-run-');
  writeFileSync(join(run, 'baseline.safetensors'), Uint8Array.of(1, 2, 3));
  const s = await startDemo({ run, data, port: 0 });
  try {
    const get = (p) => fetch(`${s.url}${p.replace(/^\//, '')}`);
    const index = await get('/');
    assert.is(index.status, 200);
    assert.match(await index.text(), '"focusnet": "/dist/browser.js"');
    assert.is((await get('/app.mjs')).status, 200);
    assert.is((await get('/dist/browser.js')).status, 200);
    const served = await (await get('/served.json')).json();
    assert.equal(served.run.files, { baseline: 'baseline.safetensors', focusnet: null });
    assert.match(served.run.note, 'has no focusnet.safetensors');
    assert.equal(served.data.files, { trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte', testImages: 't10k-images-idx3-ubyte.gz', testLabels: 't10k-labels-idx1-ubyte.gz' });
    assert.is(served.data.note, null);
    assert.equal(new Uint8Array(await (await get('/run/baseline.safetensors')).arrayBuffer()), Uint8Array.of(1, 2, 3));
    const gz = await get('/data/t10k-images-idx3-ubyte.gz');
    // sirv sends a .gz file with Content-Encoding: gzip, so the client hands over the IDX bytes
    assert.is(gz.headers.get('content-encoding'), 'gzip');
    assert.equal(new Uint8Array(await gz.arrayBuffer()), new Uint8Array(gunzipSync(readFileSync(join(data, 't10k-images-idx3-ubyte.gz')))));
    assert.is((await get('/data/.secret')).status, 404);
    assert.is((await get('/run/nothing.safetensors')).status, 404);
    // a run written after the server started shows up: /served.json is read on every request
    writeFileSync(join(run, 'focusnet.safetensors'), Uint8Array.of(4));
    assert.is((await (await get('/served.json')).json()).run.files.focusnet, 'focusnet.safetensors');
  } finally {
    await s.close();
  }
  assert.match(describeRun(join(run, 'missing')).note, 'no run folder at');
  const partial = tmp('fn-demo-partial-');
  writeFileSync(join(partial, 'train-images-idx3-ubyte.gz'), 'x');
  assert.match(describeData(partial).note, 'has no train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]');
});

test('the port: a taken one given with --port is an error naming it; the default falls back to a free one', async () => {
  const blocker = createServer();
  await new Promise((ok) => blocker.listen(0, '127.0.0.1', ok));
  const { port } = blocker.address();
  try {
    let message = '';
    await startDemo({ port }).catch((e) => { message = e.message; });
    assert.match(message, `--port ${port}: the port is in use`);
    const s = await startDemo({ port, fallback: true });
    assert.is.not(s.port, port);
    await s.close();
  } finally {
    blocker.close();
  }
});

test('the command prints its URL, serves it, and stops on SIGTERM with status 0', async () => {
  const dir = tmp('fn-demo-cmd-');
  const child = spawn(process.execPath, [script, '--run', dir, '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`no URL within 15 s: ${out}`)), 15_000);
    child.stdout.on('data', (b) => {
      out += b;
      const m = /focusnet demo: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m && out.includes('Ctrl-C')) {
        clearTimeout(t);
        ok(m[1]);
      }
    });
    child.on('exit', (code) => fail(new Error(`exited ${code} before printing a URL: ${out}`)));
  });
  try {
    assert.match(out, `run:  ${dir}`);
    assert.match(out, 'has no baseline.safetensors');
    assert.match(out, '--enable-unsafe-webgpu');
    assert.is((await fetch(url)).status, 200);
  } finally {
    const code = await new Promise((ok) => {
      child.removeAllListeners('exit');
      child.on('exit', (c) => ok(c));
      child.kill('SIGTERM');
    });
    assert.is(code, 0);
  }
});

test("the page's modules import only focusnet and each other", () => {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.mjs')) files.push(join(d, e.name));
    }
  };
  walk(here('../web/'));
  assert.ok(files.length >= 8, files.join(', '));
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
      assert.ok(m[1] === 'focusnet' || m[1].startsWith('./') || m[1].startsWith('../'), `${f} imports ${m[1]}`);
    }
  }
});

test("the page's helpers: IDX files sorted into roles, class names, disagreements, top-k", () => {
  const dir = tmp('fn-demo-idx-');
  writeIdxSet(dir, { n: 6, m: 3, h: 28, w: 28, gzipTest: true });
  const read = (name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) });
  const all = ['t10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte', 't10k-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte'].map(read);
  const roles = idxRoles(lib, all, ['trainImages', 'trainLabels', 'testImages', 'testLabels']);
  assert.equal(Object.fromEntries(Object.entries(roles).map(([k, v]) => [k, v.name])), { trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte', testImages: 't10k-images-idx3-ubyte.gz', testLabels: 't10k-labels-idx1-ubyte.gz' });
  // one pair, whatever its names: the test pair
  const pair = idxRoles(lib, [{ ...all[1], name: 'b.idx' }, { ...all[3], name: 'a.idx' }], ['testImages', 'testLabels']);
  assert.equal([pair.testImages.name, pair.testLabels.name], ['b.idx', 'a.idx']);
  let message = '';
  try {
    idxRoles(lib, [{ name: 'notes.txt', bytes: new TextEncoder().encode('hello') }], ['testImages', 'testLabels']);
  } catch (e) {
    message = e.message;
  }
  assert.match(message, /^notes\.txt: not an IDX file/);
  try {
    idxRoles(lib, [all[1]], ['testImages', 'testLabels']);
  } catch (e) {
    message = e.message;
  }
  assert.match(message, 'no test labels among the chosen IDX files');
  assert.is(classNames(lib, 'auto', 'fashion-mnist', 10)[6], 'Shirt');
  assert.is(classNames(lib, 'auto', 'digits', 10)[6], '6');
  assert.is(classNames(lib, 'fashion', 'digits', 10)[0], 'T-shirt/top');
  assert.is(classNames(lib, 'numbers', 'fashion-mnist', 10)[6], '6');
  const d = disagreements([1, 2, 3, 4], Int32Array.of(1, 0, 3, 0), Int32Array.of(1, 2, 0, 5));
  assert.equal(d.map((x) => x.index), [1, 2, 3]);
  assert.equal(d.map(whoIsRight), ['focusnet', 'baseline', 'neither']);
  assert.is(accuracy([1, 2, 3, 4], Int32Array.of(1, 0, 3, 0)), 50);
  assert.equal(topK(Float32Array.of(0.1, 0.6, 0.3), 2).map((t) => t.k), [1, 2]);
});

test.run();
