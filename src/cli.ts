// The `focusnet` command line.
import { init } from './index.js';

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  if (cmd === 'info') {
    const g = await init();
    const L = g.limits;
    console.log(JSON.stringify({ ...g.info, limits: { maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage, maxStorageBufferBindingSize: L.maxStorageBufferBindingSize, maxBufferSize: L.maxBufferSize, maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup } }, null, 2));
    return 0;
  }
  console.error('usage: focusnet info');
  return 2;
}

main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
