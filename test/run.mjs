// Test runner: runs every uvu suite under test/ in one process (one WebGPU device),
// then releases the device and exits with uvu's status.
//   node test/run.mjs [pattern]     e.g. node test/run.mjs matmul
import { parse } from 'uvu/parse';
import { run } from 'uvu/run';

const pattern = process.argv[2] ? new RegExp(process.argv[2]) : /\.test\.mjs$/;
const ctx = await parse('test', pattern, { ignore: [/helpers/, /fixtures/] });
await run(ctx.suites, {});
const lib = await import('./helpers/lib.mjs');
await lib.shutdown();
process.exit(process.exitCode ?? 0);
