// A few LeNet-5 training steps as the trainer takes them (the library's Loader, model registry,
// SGD with momentum and cross-entropy; each step in a scope, its loss read back), then the
// evaluation loop on the test split. Takes the library as an argument, so Node and a page
// (test/browser/engine/checks.mjs, with the browser build) run the very same code.
//   await trainSteps(lib, dataset, 30) → { losses, top1, params }
export async function trainSteps(lib, ds, steps, { lr = 0.02, momentum = 0.9, batchSize = 16, seed = 7 } = {}) {
  const { data, train, optim, losses, tensor, scope } = lib;
  const norm = data.channelStats(ds.train);
  const { c, h, w } = ds.train;
  const model = train.createModel('lenet5', { numClasses: ds.numClasses, inChannels: c, imageSize: h, seed }).train();
  const opt = new optim.SGD(model.parameters(), { lr, momentum });
  const loader = new data.Loader(ds.train, { batchSize, shuffle: true, dropLast: true, norm, seed });
  const out = [];
  for (let epoch = 0; out.length < steps; epoch++) {
    loader.startEpoch(1, epoch);
    for (let k = 0; k < loader.batchCount && out.length < steps; k++) {
      const b = loader.batch(k);
      const loss = scope(() => {
        const x = tensor(b.x, [b.size, c, h, w]);
        const y = tensor(b.y, [b.size], { dtype: 'i32' });
        const l = losses.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l;
      });
      out.push(await loss.item());
      loss.dispose();
    }
  }
  // (evaluate's default accumulator would be left to the garbage collector: one of our own, disposed)
  const acc = new train.MetricAccumulator();
  const ev = await train.evaluate(model, new data.Loader(ds.test, { batchSize, shuffle: false, norm }), acc);
  const params = model.numParameters();
  acc.dispose();
  opt.dispose();
  model.dispose();
  return { losses: out, top1: ev.top1, params };
}
