// `npm run demo`: serves the web page of web/ (the confusion explorer and training in the page)
// with the browser build, a run folder and a data folder, on 127.0.0.1, and prints the URL.
//
//   node scripts/demo.mjs [--run DIR] [--data DIR] [--port N]
//     --run DIR    the run folder whose baseline.safetensors and focusnet.safetensors the
//                  explorer opens [runs/focusnet]
//     --data DIR   the IDX data folder (train-/t10k- images and labels, raw or .gz) the page
//                  reads [/usr/share/datasets/fashion-mnist]
//     --port N     the port [8100; when it is taken, a free one]; given explicitly, it must be free
//
// What is served: web/ at /, dist/ at /dist/, the run folder at /run/, the data folder at /data/,
// and /served.json, which says what those two hold (read on every request, so a run written
// after the server started shows up on a reload). A missing default folder is a note, and the
// page then asks for files; a missing folder given with a flag is an error (exit status 2).
// The server is the test harness's (test/browser/server.mjs: sirv, no caching, no dotfiles).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '../test/browser/server.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const DEFAULTS = { run: 'runs/focusnet', data: '/usr/share/datasets/fashion-mnist', port: 8100 };
/** The run folder's files the page opens. */
export const RUN_FILES = ['baseline.safetensors', 'focusnet.safetensors'];
/** The IDX files of a data folder, by their role in data.idxDataset. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** A bad flag or folder: the message names it; the command exits with status 2. */
export class DemoError extends Error {}

const USAGE = 'usage: npm run demo -- [--run DIR] [--data DIR] [--port N]';

/** The options from the command line's flags (DemoError naming the flag when one is wrong). */
export function demoOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { run: { type: 'string' }, data: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    const flag = /'(-?-?[^'\s]+)/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new DemoError(`demo: unknown flag ${flag ?? ''} (flags: --run DIR, --data DIR, --port N)\n${USAGE}`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new DemoError(`demo: ${flag ?? 'a flag'} needs a value\n${USAGE}`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new DemoError(`demo: unexpected argument ${flag ?? ''} (flags: --run DIR, --data DIR, --port N)\n${USAGE}`);
    throw new DemoError(`demo: ${e.message}\n${USAGE}`);
  }
  if (values.help) return { help: true, usage: USAGE };
  let port = DEFAULTS.port;
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port) || Number(values.port) < 1 || Number(values.port) > 65535) throw new DemoError(`demo: --port ${values.port}: expected a whole number from 1 to 65535`);
    port = Number(values.port);
  }
  const folder = (flag) => {
    const given = values[flag] !== undefined;
    const dir = resolve(values[flag] ?? DEFAULTS[flag]);
    if (given) {
      if (!existsSync(dir)) throw new DemoError(`demo: --${flag} ${values[flag]}: no such folder`);
      if (!statSync(dir).isDirectory()) throw new DemoError(`demo: --${flag} ${values[flag]}: is a file, not a folder`);
    }
    return dir;
  };
  return { run: folder('run'), data: folder('data'), port, portGiven: values.port !== undefined };
}

const isFile = (p) => { try { return statSync(p).isFile(); } catch { return false; } };
const isDir = (p) => { try { return statSync(p).isDirectory(); } catch { return false; } };

/** What the run folder holds for the page: { path, files: { baseline, focusnet } (names, or null), note }. */
export function describeRun(dir) {
  if (!isDir(dir)) return { path: dir, files: { baseline: null, focusnet: null }, note: `no run folder at ${dir}` };
  const files = Object.fromEntries(RUN_FILES.map((f) => [f.replace('.safetensors', ''), isFile(resolve(dir, f)) ? f : null]));
  const missing = RUN_FILES.filter((f) => !files[f.replace('.safetensors', '')]);
  return { path: dir, files, note: missing.length ? `${dir} has no ${missing.join(' and no ')}` : null };
}

/** What the data folder holds: { path, name, files: { trainImages, … } (names, raw or .gz; null when missing), note }. */
export function describeData(dir) {
  const none = Object.fromEntries(Object.keys(IDX_FILES).map((k) => [k, null]));
  if (!isDir(dir)) return { path: dir, name: basename(dir), files: none, note: `no data folder at ${dir}` };
  const names = new Set(readdirSync(dir));
  const files = Object.fromEntries(Object.entries(IDX_FILES).map(([k, base]) => [k, [base, `${base}.gz`].find((n) => names.has(n) && isFile(resolve(dir, n))) ?? null]));
  const missing = Object.entries(files).filter(([, v]) => !v).map(([k]) => `${IDX_FILES[k]}[.gz]`);
  return { path: dir, name: basename(dir), files, note: missing.length ? `${dir} has no ${missing.join(', ')}` : null };
}

/** The page's /served.json. */
export function served(o) {
  return { run: describeRun(o.run), data: describeData(o.data) };
}

/**
 * Serve the demo (web/, dist/, the run and data folders, /served.json) on 127.0.0.1. `port` 0
 * is any free port; with `fallback`, a taken port falls back to a free one.
 */
export async function startDemo({ run = resolve(DEFAULTS.run), data = resolve(DEFAULTS.data), port = 0, fallback = false, dist = here('../dist/') } = {}) {
  const opts = { root: here('../web/'), mounts: { '/dist/': dist, '/run/': run, '/data/': data }, routes: { '/served.json': (req, res) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify(served({ run, data })));
  } } };
  try {
    return await serve({ ...opts, port });
  } catch (e) {
    if (e.code === 'EADDRINUSE' && fallback) return serve({ ...opts, port: 0 });
    if (e.code === 'EADDRINUSE') throw new DemoError(`demo: --port ${port}: the port is in use (leave --port out for a free one)`);
    throw e;
  }
}

async function main(argv) {
  let o;
  try {
    o = demoOptions(argv);
  } catch (e) {
    if (e instanceof DemoError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    console.log(`${o.usage}\n  --run DIR   run folder with baseline.safetensors and focusnet.safetensors [${DEFAULTS.run}]\n  --data DIR  IDX data folder [${DEFAULTS.data}]\n  --port N    port on 127.0.0.1 [${DEFAULTS.port}, else a free one]`);
    return 0;
  }
  if (!existsSync(here('../dist/browser.js'))) {
    console.error('demo: dist/browser.js is missing: build first (npm run demo builds it; or node build.mjs)');
    return 2;
  }
  let server;
  try {
    server = await startDemo({ run: o.run, data: o.data, port: o.port, fallback: !o.portGiven });
  } catch (e) {
    if (e instanceof DemoError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  const stopped = new Promise((done) => {
    const stop = () => server.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const s = served(o);
  console.log(`focusnet demo: ${server.url}`);
  console.log(`  run:  ${s.run.path}${s.run.note ? `  (note: ${s.run.note}; the explorer asks for files; train a run with npm run train -- --data DIR --out ${DEFAULTS.run})` : ''}`);
  console.log(`  data: ${s.data.path}${s.data.note ? `  (note: ${s.data.note}; the page asks for files)` : ''}`);
  console.log('  WebGPU: Chrome/Edge 113+ (on Linux start Chromium with --enable-unsafe-webgpu), Firefox 141+ on Windows, Safari 26+. Ctrl-C stops the server.');
  await stopped;
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    console.error(`demo: ${e.stack ?? e}`);
    process.exit(1);
  });
}
