// The lr warm-up's 'auto' length (src/optim/schedule.ts): min(300, one epoch's steps), the
// command line's default. Checked as numbers, and through the trainer: a run with 'auto' is
// the run with that many explicit steps, bit for bit, and not the run with another length.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import lib from './helpers/lib.mjs';
import { tmp, writeIdxSet } from './helpers/datasets.mjs';

const { train: T, optim } = lib;

test("'auto' warm-up: one epoch's steps, at most 300", () => {
  assert.equal(optim.AUTO_WARMUP, { fraction: 1, cap: 300 });
  // 8,000 MNIST digits at batch 64: 125 steps an epoch; Fashion-MNIST's 60,000 at batch 128: 468
  assert.equal([0, 1, 62, 125, 299, 300, 301, 468, 10000].map(optim.autoWarmupSteps), [0, 1, 62, 125, 299, 300, 300, 300, 300]);
  assert.is(optim.warmupStepsFor('auto', 125), 125);
  assert.is(optim.warmupStepsFor('auto', 468), 300);
  assert.is(optim.warmupStepsFor(40, 125), 40, 'a number is taken as it is');
  assert.is(optim.warmupStepsFor(0, 125), 0);
  assert.is(optim.warmupStepsFor(undefined, 125), 0, 'undefined: no warm-up (the API default)');
});

const options = (data, out, extra) => ({
  data, out, arch: 'mlp', loss: 'ce', epochs: 2, batchSize: 16, lr: 0.1, momentum: 0.9, weightDecay: 1e-4,
  schedule: 'multistep', seed: 4, progress: 'none', log: () => {},
  objective: { impl: 'fused', labelSmoothing: 0.1, temperature: 4, kdWeight: 0.5, alpha: 1, beta: 1, rule: 'positive-logit' },
  ...extra,
});

const weights = (out) => readFileSync(join(out, 'ce.safetensors'));

test("the trainer resolves 'auto' from the steps per epoch: the same weights as that many explicit steps", async () => {
  const data = tmp();
  writeIdxSet(data, { n: 96, m: 16, h: 8, w: 8 }); // batch 16: 6 steps an epoch, so 'auto' is 6
  const lines = [];
  const auto = tmp();
  await T.train(options(data, auto, { warmupSteps: 'auto', log: (l) => lines.push(l) }));
  assert.ok(lines.some((l) => l === 'ce: lr warm-up over the first 6 of 12 steps (--warmup-steps auto)'), lines.join('\n'));
  const six = tmp();
  await T.train(options(data, six, { warmupSteps: 6 }));
  const three = tmp();
  await T.train(options(data, three, { warmupSteps: 3 }));
  const tensors = (out) => T.readSafetensorsFile(join(out, 'ce.safetensors')).tensors;
  const [a, s, t] = [auto, six, three].map(tensors);
  for (const k of Object.keys(a)) assert.equal([...a[k].data], [...s[k].data], `${k}: 'auto' differs from 6 steps`);
  assert.ok(Object.keys(a).some((k) => a[k].data.some((v, i) => v !== t[k].data[i])), "'auto' is not 3 steps");
  assert.not.equal(weights(auto), weights(three));
});

test("train() refuses a warm-up that is neither a whole number of steps nor 'auto', naming the flag", async () => {
  for (const bad of ['sometimes', -1, 2.5]) {
    try {
      await T.train(options(tmp(), tmp(), { warmupSteps: bad }));
      assert.unreachable(`warmupSteps ${bad} was taken`);
    } catch (e) {
      assert.instance(e, lib.ArgError);
      assert.match(e.message, /--warmup-steps .*expected a whole number of steps >= 0 \(0: no warm-up\) or 'auto'/);
    }
  }
});

test.run();
