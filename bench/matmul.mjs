// Matmul GFLOP/s per variant on the adapter in use: square 256..2048 and the skinny
// training shape 256×800·800×500 with its two backward forms (dX = G·Wᵀ, dW = Xᵀ·G).
//   npm run bench -- matmul [--quick] [--variants rb,sg,tiled] [--max-ms 4000]
// Two figures per cell: wall-clock GFLOP/s (best synced run) and GFLOP per CPU-second of
// this process × cores ("cpu" column: what the kernel reaches on an otherwise idle machine;
// these machines are shared, so wall time swings with other load while CPU time does not).
// The 'picked' column is the variant matmulRaw chooses for the shape (after autotune).
import os from 'node:os';
import { lib, g, rand, timeOnce, adapterLine, printTable, writeJson } from './common.mjs';

const { ops, tensor, tuning, internal } = lib;

function parse(args) {
  const o = { quick: false, variants: null, maxMs: 4000 };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--quick') o.quick = true;
    else if (args[i] === '--variants') o.variants = args[++i].split(',');
    else if (args[i] === '--max-ms') o.maxMs = +args[++i];
  }
  return o;
}

/** best wall ms and best CPU ms of one synced matmul, reps sized to the budget */
async function timeCase(a, b, opts, maxMs) {
  const once = () => timeOnce(() => { internal.matmulRaw(a, b, opts); });
  const first = await once(); // compiles the pipeline, warms caches
  const reps = Math.max(1, Math.min(5, Math.floor(maxMs / Math.max(first.wall, 1))));
  let wall = Infinity, cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = await once();
    wall = Math.min(wall, t.wall);
    cpu = Math.min(cpu, t.cpu);
  }
  return { wall, cpu, reps };
}

export async function run(args) {
  const o = parse(args);
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  console.log(`adapter: ${adapterLine()}`);
  const variants = (o.variants ?? tuning.availableMatmulVariants()).filter((v) => tuning.availableMatmulVariants().includes(v));
  console.log(`variants: ${variants.join(', ')}; default for this adapter: ${tuning.defaultMatmulVariant()}`);
  const tune = await tuning.autotuneMatmul({ variants, log: (l) => console.log(l) });

  const cases = [];
  for (const s of o.quick ? [256, 512, 1024] : [256, 512, 1024, 2048]) cases.push({ name: `square ${s}`, m: s, n: s, k: s });
  cases.push({ name: '1024 Aᵀ·B', m: 1024, n: 1024, k: 1024, ta: true });
  cases.push({ name: '1024 A·Bᵀ', m: 1024, n: 1024, k: 1024, tb: true });
  cases.push({ name: 'skinny X·W 256×800·800×500', m: 256, n: 500, k: 800 });
  cases.push({ name: 'skinny dX=G·Wᵀ 256×500·500×800', m: 256, n: 800, k: 500, tb: true });
  cases.push({ name: 'skinny dW=Xᵀ·G 800×256·256×500', m: 800, n: 500, k: 256, ta: true });

  const rows = [];
  const results = [];
  for (const cs of cases) {
    const { m, n, k, ta = false, tb = false } = cs;
    const a = tensor(rand(m * k, 1, 0.5), ta ? [k, m] : [m, k]);
    const b = tensor(rand(k * n, 2, 0.5), tb ? [n, k] : [k, n]);
    const flop = 2 * m * n * k;
    const picked = tuning.matmulVariant(m, n, k);
    const row = { shape: cs.name, picked };
    for (const v of variants) {
      // the barrier-heavy tiled kernel is ~10× slower on lavapipe: keep 2048 affordable
      if (g.info.isSoftware && v === 'tiled' && m * n * k > 1100 ** 3) { row[v] = 'skipped'; continue; }
      const t = await timeCase(a, b, { transA: ta, transB: tb, variant: v }, o.maxMs);
      const wall = flop / t.wall / 1e6;
      const cpu = (flop / t.cpu / 1e6) * cores;
      row[v] = `${wall.toFixed(2)} (cpu ${cpu.toFixed(2)})`;
      results.push({ case: cs.name, m, n, k, transA: ta, transB: tb, variant: v, picked: v === picked, wallMs: t.wall, cpuMs: t.cpu, reps: t.reps, gflops: wall, gflopsCpu: cpu });
    }
    a.dispose();
    b.dispose();
    rows.push(row);
    console.log(`${cs.name}: ${variants.map((v) => `${v} ${row[v]}`).join(' | ')}`);
  }
  console.log(`\nGFLOP/s, wall clock (cpu: GFLOP per CPU-second × ${cores} cores) — ${adapterLine()}`);
  printTable(rows, ['shape', ...variants, 'picked']);
  writeJson('matmul', { cores, variants, default: tuning.defaultMatmulVariant(), tune, results });
}
