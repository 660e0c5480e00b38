// Test-split predictions of the baseline and FocusNet checkpoints of a run, for the
// report when the trainer left no predictions.json.

import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { tensor, scope } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import * as ops from '../ops/index.js';
import { openDataSet, DataSet } from './testset.js';
import { Normalization } from '../data/loader.js';
import { loadModel, checkpointInfo, Arch } from './split.js';
import { Module } from '../nn/module.js';
import { Predictions } from './report.js';
import { VizInputError } from './errors.js';

async function predictAll(model: Module, ds: DataSet, norm: Normalization, batch = 256): Promise<number[]> {
  const out: number[] = [];
  const loader = ds.loader(norm, batch);
  const { c, h, w } = loader.split;
  for (let k = 0; k < loader.batchCount; k++) {
    const { x, size } = loader.batch(k);
    const am = scope(() => noGrad(() => ops.argmax(model.forward(tensor(x, [size, c, h, w])), -1)));
    const v = await am.read();
    am.dispose();
    for (const p of v) out.push(p);
  }
  return out;
}

/** The stage-2 model's name: 'focusnet', or the comparison method a run trained (summary.json's "stage2"). */
export function stage2Name(runDir: string): string {
  const p = join(runDir, 'summary.json');
  if (!existsSync(p)) return 'focusnet';
  try {
    const s = JSON.parse(readFileSync(p, 'utf8'));
    return typeof s?.stage2 === 'string' && /^[\w-]+$/.test(s.stage2) ? s.stage2 : 'focusnet';
  } catch {
    return 'focusnet';
  }
}

/** Predictions of `runDir`'s baseline.safetensors and focusnet.safetensors on the test split of `dataDir`. */
export async function predictionsFromCheckpoints(runDir: string, dataDir: string, arch: Arch, baselineArch: Arch = arch): Promise<Predictions> {
  const stage2 = stage2Name(runDir);
  const files = { baseline: join(runDir, 'baseline.safetensors'), [stage2]: join(runDir, `${stage2}.safetensors`) };
  for (const [k, f] of Object.entries(files)) if (!existsSync(f)) throw new VizInputError(`--run: ${runDir} has no ${k}.safetensors to compute predictions from`);
  const info = checkpointInfo(files[stage2]);
  const ds = openDataSet(dataDir, { imageSize: info.imageSize });
  const img = ds.image(0);
  const norm = info.norm && info.norm.mean.length === img.channels ? info.norm : ds.stats();
  const shape = { numClasses: ds.classes.length, inChannels: img.channels, imageSize: img.height };
  const labels = Array.from(ds.labels);
  const b = await loadModel(baselineArch, files.baseline, { ...shape, flag: 'baseline checkpoint' });
  const baseline = await predictAll(b, ds, norm);
  (b as { dispose?: () => void }).dispose?.();
  const f = await loadModel(arch, files[stage2], { ...shape, flag: `${stage2} checkpoint` });
  const focusnet = await predictAll(f, ds, norm);
  (f as { dispose?: () => void }).dispose?.();
  return { labels, baseline, focusnet, classes: ds.classes };
}
