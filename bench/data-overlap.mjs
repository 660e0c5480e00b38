// Does the GPU wait on data? Trains K steps of the baseline (cross-entropy) on
// Fashion-MNIST three ways and compares time per step:
//   static   — the same host batch every step: no data cost at all (the floor)
//   prefetch — the trainer's loop: batch k+1 prepared and uploaded while the GPU runs step k
//   serial   — wait for the GPU, then prepare the next batch (no overlap)
// prefetch ≈ static means data preparation is hidden behind GPU work.
//   npm run bench -- data-overlap [--arch lenet5|mlp] [--steps K] [--batch B] [--augment]
import { lib, option, adapterLine, printTable, writeJson } from './common.mjs';

export async function run(args) {
  const opt = (name, d) => option(args, name, d);
  const arch = opt('arch', 'lenet5');
  const steps = Number(opt('steps', 40));
  const B = Number(opt('batch', 128));
  const augment = args.includes('--augment');
  const { train: T, data: D } = lib;
  const { train: split, norm } = T.prepareData({ data: opt('data', '/usr/share/datasets/fashion-mnist'), trainLimit: (steps + 1) * B });
  const model = T.createModel(arch, { numClasses: 10, inChannels: split.c, imageSize: split.h, seed: 1 });
  const opt_ = new lib.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const acc = new T.MetricAccumulator();
  const step = (b) => lib.scope(() => {
    const z = model.forward(b.x);
    const loss = lib.losses.crossEntropy(z, b.y); // the trainer's stage-1 loss (fused)
    opt_.zeroGrad(); loss.backward(); opt_.step();
    acc.add(z, b.y, loss);
  });
  const loader = new D.Loader(split, { batchSize: B, shuffle: true, dropLast: true, norm, seed: 1, cropPadding: augment ? 4 : 0, flip: augment });
  model.train();
  loader.startEpoch(1, 99);
  await T.runBatches(loader, step, { mode: 'static' }); // warm-up: pipelines, pool
  const rows = [];
  for (const mode of ['static', 'prefetch', 'serial', 'static', 'prefetch', 'serial', 'static', 'prefetch', 'serial']) {
    loader.startEpoch(1, 0);
    const t = await T.runBatches(loader, step, { mode });
    rows.push({ mode, ms_per_step: (1000 * t.seconds / t.steps).toFixed(2), data_ms: (t.dataMs / t.steps).toFixed(2), encode_ms: (t.encodeMs / t.steps).toFixed(2), gpu_wait_ms: (t.waitMs / t.steps).toFixed(2), images_per_s: (t.images / t.seconds).toFixed(0) });
  }
  console.log(`${adapterLine()}\n${arch}, batch ${B}, ${steps} steps, augmentation ${augment ? 'crop+flip' : 'off'}`);
  printTable(rows, ['mode', 'ms_per_step', 'data_ms', 'encode_ms', 'gpu_wait_ms', 'images_per_s']);
  const ms = (m) => rows.filter((r) => r.mode === m).map((r) => Number(r.ms_per_step));
  const best = (m) => Math.min(...ms(m));
  console.log(`prefetch / static = ${(best('prefetch') / best('static')).toFixed(3)}   serial / static = ${(best('serial') / best('static')).toFixed(3)}`);
  writeJson('data-overlap', { arch, steps, batch: B, augment, rows });
}
