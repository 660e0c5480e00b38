// Test runner: runs every uvu suite under test/ in one process (one WebGPU device),
// then releases the device and exits with uvu's status.
//   node test/run.mjs [pattern]     e.g. node test/run.mjs matmul
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';

const pattern = process.argv[2] ? new RegExp(process.argv[2]) : /\.test\.mjs$/;

// uvu ignores a test registered after its file's test.run(): it would never run, silently.
for (const f of readdirSync(new URL('.', import.meta.url)).filter((n) => n.endsWith('.test.mjs'))) {
  const src = readFileSync(new URL(f, import.meta.url), 'utf8');
  const runAt = src.lastIndexOf('test.run()');
  const late = src.slice(runAt + 1).search(/^test(\.only)?\(/m);
  if (runAt < 0 || late >= 0) {
    console.error(`test/${f}: ${runAt < 0 ? 'no test.run()' : 'a test is registered after test.run() and would never run'}`);
    process.exit(1);
  }
}
// test/browser/ holds the browser harness and its pages, not suites
const ctx = await parse('test', pattern, { ignore: [/helpers/, /fixtures/, /^browser$/] });
await run(ctx.suites, {});
const lib = await import('./helpers/lib.mjs');
await lib.shutdown();
process.exit(process.exitCode ?? 0);
