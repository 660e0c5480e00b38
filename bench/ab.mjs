// A/B of two builds in one process: `npm run bench -- ab [--base REV | --a DIST] [--b DIST]
// [--rounds N] [--only REGEX] [--quick]`. Build A (default: the tree at --base, default 2be6cf1,
// the commit before the issue-11 redesign, built into a temporary worktree) and build B (default
// dist/, this tree) are loaded side by side, each module graph with its own device, together with
// a second instance of A (A′, the same files imported again). The same workloads (public API only,
// so any two builds can be compared) run round-robin — A, A′, B in a shuffled order each round —
// and each build's median ms per call is reported with B/A and A′/A. Two instances of one build
// on two devices differ by themselves (up to ~15% in medians on tiny kernels, measured in the
// WGSL-fold A/B this replaces), so A′/A is the noise floor of this run: B is "within noise" of A
// when |B/A − 1| is no larger than |A′/A − 1| plus the rounds' own spread. Writes
// bench/out/ab.json.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, option, printTable, rand } from './common.mjs';

const root = new URL('..', import.meta.url).pathname;

/** dist/ of the tree at `rev`, built once into a temporary worktree. */
function buildAt(rev) {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `focusnet-ab-${sha}`);
  if (!existsSync(join(dir, 'dist', 'index.js'))) {
    if (!existsSync(dir)) execFileSync('git', ['worktree', 'add', '--detach', dir, sha], { cwd: root, stdio: 'ignore' });
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, ['build.mjs', '--no-types'], { cwd: dir, stdio: 'inherit' });
  }
  return join(dir, 'dist');
}

async function load(dist, tag) {
  const lib = await import(`${pathToFileURL(join(resolve(dist), 'index.js')).href}?instance=${tag}`);
  await lib.init();
  return lib;
}

/** Workloads: name → (lib) => a function that encodes one call (inside a scope). */
function workloads(quick) {
  const trainStep = (arch, batch, shape, classes) => (lib) => {
    const model = arch(lib);
    const opt = new lib.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
    model.train();
    const x = lib.keep(lib.tensor(rand(batch * shape.reduce((a, b) => a * b, 1), 1), [batch, ...shape]));
    const y = lib.keep(lib.tensor(Int32Array.from({ length: batch }, (_, i) => (i * 7) % classes), [batch], { dtype: 'i32' }));
    return () => {
      opt.zeroGrad();
      lib.losses.crossEntropy(model.forward(x), y).backward();
      opt.step();
    };
  };
  const lenet = (lib) => lib.models.lenet5({ numClasses: 10, seed: 1 });
  const mobilenet = (lib) => lib.models.mobilenetV2({ numClasses: 10, smallInput: true, widthMult: 0.5, seed: 1 });
  const resnet = (lib) => lib.models.resnet18({ numClasses: 10, smallInput: true, seed: 1 });
  const loss = (impl) => (lib) => {
    const [B, N] = quick ? [256, 1000] : [1024, 1000];
    const z = lib.keep(lib.tensor(rand(B * N, 3, 4), [B, N], { requiresGrad: true }));
    const zb = lib.keep(lib.tensor(rand(B * N, 4, 4), [B, N]));
    const t = lib.keep(lib.tensor(Int32Array.from({ length: B }, (_, i) => (i * 31) % N), [B], { dtype: 'i32' }));
    return () => {
      lib.losses.focusPicking(z, zb, t, { impl }).backward();
    };
  };
  const matmul = (n) => (lib) => {
    const a = lib.keep(lib.tensor(rand(n * n, 5), [n, n]));
    const b = lib.keep(lib.tensor(rand(n * n, 6), [n, n]));
    return () => {
      lib.ops.matmul(a, b);
    };
  };
  const w = {
    'lenet5 step b64': trainStep(lenet, 64, [1, 28, 28], 10),
    'lenet5 step b256': trainStep(lenet, 256, [1, 28, 28], 10),
    'focus loss fused fwd+bwd': loss('fused'),
    'focus loss composed fwd+bwd': loss('composed'),
    'matmul 512³': matmul(512),
  };
  if (!quick) {
    w['mobilenetv2 ×0.5 step b16'] = trainStep(mobilenet, 16, [3, 32, 32], 10);
    w['resnet18 step b8'] = trainStep(resnet, 8, [3, 32, 32], 10);
  }
  return w;
}

export async function run(args) {
  const quick = args.includes('--quick');
  const rounds = Number(option(args, 'rounds', quick ? 3 : 7));
  const only = option(args, 'only', null) ? new RegExp(option(args, 'only', '')) : null;
  const distA = option(args, 'a', null) ?? buildAt(option(args, 'base', '2be6cf1'));
  const distB = option(args, 'b', join(root, 'dist'));
  const builds = [
    { name: 'A', lib: await load(distA, 'a') },
    { name: "A'", lib: await load(distA, 'a2') },
    { name: 'B', lib: await load(distB, 'b') },
  ];
  const load0 = loadavg()[0];
  const rows = [];
  const json = { a: distA, b: distB, rounds, loadavg: { start: load0 }, results: {} };
  let seed = 12345;
  const shuffle = (xs) => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const j = seed % (i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  };
  for (const [name, make] of Object.entries(workloads(quick))) {
    if (only && !only.test(name)) continue;
    const calls = builds.map((b) => ({ ...b, fn: make(b.lib), ms: [] }));
    const inner = name.startsWith('lenet') || name.startsWith('matmul') ? 5 : name.startsWith('focus') ? 3 : 2;
    for (const c of calls) {
      // warm-up: compile pipelines, fill the pool and the bind-group cache
      for (let i = 0; i < 2; i++) c.lib.scope(() => { for (let k = 0; k < inner; k++) c.fn(); });
      await c.lib.gpu().sync();
    }
    for (let r = 0; r < rounds; r++) {
      for (const c of shuffle(calls)) {
        const t0 = performance.now();
        c.lib.scope(() => { for (let k = 0; k < inner; k++) c.fn(); });
        await c.lib.gpu().sync();
        c.ms.push((performance.now() - t0) / inner);
      }
    }
    const [a, a2, b] = calls.map((c) => median(c.ms));
    const spread = Math.max(...calls.map((c) => (Math.max(...c.ms) - Math.min(...c.ms)) / median(c.ms)));
    const noise = Math.abs(a2 / a - 1);
    const within = Math.abs(b / a - 1) <= noise + spread / 2;
    json.results[name] = { ms: Object.fromEntries(calls.map((c) => [c.name, c.ms])), median: { A: a, "A'": a2, B: b }, ratio: b / a, noise: a2 / a, spread };
    rows.push({ workload: name, 'A ms': a.toFixed(2), "A' ms": a2.toFixed(2), 'B ms': b.toFixed(2), 'B/A': (b / a).toFixed(3), "A'/A (noise)": (a2 / a).toFixed(3), spread: `${(spread * 100).toFixed(0)}%`, 'within noise': within ? 'yes' : 'NO' });
    console.log(`${name}: A ${a.toFixed(2)} ms, A' ${a2.toFixed(2)} ms, B ${b.toFixed(2)} ms`);
  }
  json.loadavg.end = loadavg()[0];
  console.log(`\nA = ${distA}\nB = ${distB}\n${rounds} rounds, load average ${load0.toFixed(1)} → ${json.loadavg.end.toFixed(1)}`);
  printTable(rows, ['workload', 'A ms', "A' ms", 'B ms', 'B/A', "A'/A (noise)", 'spread', 'within noise']);
  mkdirSync(new URL('out/', import.meta.url), { recursive: true });
  writeFileSync(new URL('out/ab.json', import.meta.url), JSON.stringify(json, null, 2));
  for (const b of builds) await b.lib.shutdown();
}
