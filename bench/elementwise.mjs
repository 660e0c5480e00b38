// Elementwise bandwidth: GB/s (bytes read + written per second) of relu forward/backward,
// add (same shape, row broadcast [R, N] + [N], channel broadcast [B, C, H, W] + [1, C, 1, 1]),
// accumulate and fill, a gradient landing in a zeroed slot (fill + accumulate, the old
// zeroGrad path, with the fill kernel, vs the copy the lazy zeroGrad does; GB/s there = 2 * bytes / time), at 1 MB and 8 MB, for the scalar kernels and the vec4 kernels with
// K = 1, 2, 4, 8 vec4s per invocation (the scalar column fills zeros with the kernel, the vec4
// columns with clearBuffer), next to the adapter's buffer-copy bandwidth.
// Usage: npm run bench -- elementwise [--quick]
import { lib, g, timeMs, copyBandwidth, printTable, writeJson, adapterLine } from './common.mjs';

const { ops, tuning, internal } = lib;

export async function run(args) {
  const quick = args.includes('--quick');
  console.log(adapterLine());
  const copyGBs = await copyBandwidth();
  console.log(`copyBufferToBuffer: ${copyGBs.toFixed(2)} GB/s`);
  const variants = [
    { name: 'scalar', vec4: false, k: 1, clear: false },
    { name: 'vec4 k=1', vec4: true, k: 1, clear: true },
    { name: 'vec4 k=2', vec4: true, k: 2, clear: true },
    { name: 'vec4 k=4', vec4: true, k: 4, clear: true },
    { name: 'vec4 k=8', vec4: true, k: 8, clear: true },
  ];
  const rows = [];
  for (const mb of quick ? [8] : [1, 8]) {
    const n = (mb * 1024 * 1024) / 4;
    const N = 512; // row length
    const C = 64; // channels
    const HW = n / (8 * C);
    const x = lib.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3));
    const y = lib.tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(i)));
    const row = lib.tensor(Float32Array.from({ length: N }, (_, i) => i / N));
    const chan = lib.tensor(Float32Array.from({ length: C }, (_, i) => i), [1, C, 1, 1]);
    const x2 = x.detachedView([n / N, N]);
    const x4 = x.detachedView([8, C, HW / 16, 16]);
    const dst = lib.zeros([n]);
    lib.keep(x); lib.keep(y); lib.keep(row); lib.keep(chan); lib.keep(x2); lib.keep(x4); lib.keep(dst);
    const B = n * 4;
    const cases = [
      ['relu', () => ops.relu(x), 2 * B],
      ['relu backward', () => internal.unaryBackward('relu', y, x), 3 * B],
      ['add same shape', () => ops.add(x, y), 3 * B],
      ['add row [R,N]+[N]', () => ops.add(x2, row), 2 * B],
      ['add chan +[1,C,1,1]', () => ops.add(x4, chan), 2 * B],
      ['accumulate', () => ops.accumulate(dst, x), 3 * B],
      ['fill 0.5', () => ops.fillInPlace(dst, 0.5), B],
      ['fill 0 (clearBuffer)', () => ops.fillInPlace(dst, 0), B],
      // a gradient landing in a zeroed slot: before (zero fill + accumulate) and now (a copy)
      ['grad: fill+accumulate', () => { ops.fillInPlace(dst, 0.5); ops.accumulate(dst, x); }, 2 * B],
      ['grad: copy (lazy zero)', () => ops.assign(dst, x), 2 * B],
    ];
    for (const [name, fn, bytes] of cases) {
      const r = { size: `${mb} MB`, op: name };
      for (const v of variants) {
        Object.assign(tuning.vectorTuning, { vec4: v.vec4, k: v.k, clear: v.clear });
        const ms = await timeMs(fn, { warmup: 2, reps: quick ? 3 : 7, inner: 4 });
        r[v.name] = `${(bytes / (ms * 1e6)).toFixed(2)} (${ms.toFixed(2)} ms)`;
      }
      rows.push(r);
    }
    for (const t of [x, y, row, chan, x2, x4, dst]) t.dispose();
  }
  Object.assign(tuning.vectorTuning, { vec4: true, k: 4, clear: true });
  console.log('GB/s (ms per call); copy bandwidth', copyGBs.toFixed(2), 'GB/s');
  printTable(rows, ['size', 'op', ...variants.map((v) => v.name)]);
  writeJson('elementwise', { copyGBs, rows });
}
