// Benchmark dispatcher: `npm run bench -- NAME [args]` runs bench/NAME.mjs's `run(args)`.
// Each runner prints a table, writes JSON under bench/out/, and reports ratios measured in one run.
import { readdirSync } from 'node:fs';

const [name, ...args] = process.argv.slice(2);
const available = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.mjs') && !['run.mjs', 'common.mjs'].includes(f)).map((f) => f.replace(/\.mjs$/, ''));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [--json]`);
  process.exit(2);
}
const mod = await import(`./${name}.mjs`);
await mod.run(args);
const lib = await import('../dist/index.js');
await lib.shutdown();
process.exit(0);
