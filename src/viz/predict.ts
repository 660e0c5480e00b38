// Test-split predictions of the baseline and FocusNet checkpoints of a run, for the
// report when the trainer left no predictions.json.

import { hostFiles, join } from '../platform/files.js';
import { openDataSet, DataSet } from './testset.js';
import { Normalization } from '../data/loader.js';
import { Module } from '../nn/module.js';
import { evaluate } from '../train/evaluate.js';
import { readCheckpointInfo } from '../train/checkpoint.js';
import { loadModelFile } from '../train/load.js';
import { MetricAccumulator } from '../train/metrics.js';
import { Predictions } from './report.js';
import { VizInputError } from './errors.js';

/** Test-split predicted classes of `model`, by the trainer's evaluation (argmax on the GPU, one readback). */
async function predictAll(model: Module, ds: DataSet, norm: Normalization): Promise<number[]> {
  const out: number[] = [];
  const acc = new MetricAccumulator();
  try {
    await evaluate(model, ds.loader(norm, 256), acc, out);
  } finally {
    acc.dispose();
  }
  return out;
}

/** The stage-2 model's name: 'focusnet', or the comparison method a run trained (summary.json's "stage2"). */
export function stage2Name(runDir: string): string {
  const fs = hostFiles('viz.stage2Name');
  const p = join(runDir, 'summary.json');
  if (!fs.exists(p)) return 'focusnet';
  try {
    const s = JSON.parse(fs.readText(p));
    return typeof s?.stage2 === 'string' && /^[\w-]+$/.test(s.stage2) ? s.stage2 : 'focusnet';
  } catch {
    return 'focusnet';
  }
}

/** Predictions of `runDir`'s baseline.safetensors and focusnet.safetensors on the test split of `dataDir`. */
export async function predictionsFromCheckpoints(runDir: string, dataDir: string, arch: string, baselineArch: string = arch): Promise<Predictions> {
  const fs = hostFiles('viz.predictionsFromCheckpoints');
  const stage2 = stage2Name(runDir);
  const files = { baseline: join(runDir, 'baseline.safetensors'), [stage2]: join(runDir, `${stage2}.safetensors`) };
  for (const [k, f] of Object.entries(files)) if (!fs.exists(f)) throw new VizInputError(`--run: ${runDir} has no ${k}.safetensors to compute predictions from`);
  const info = readCheckpointInfo(files[stage2]);
  const ds = openDataSet(dataDir, { imageSize: info.imageSize });
  const img = ds.image(0);
  const norm = info.norm && info.norm.mean.length === img.channels ? info.norm : ds.stats();
  const shape = { numClasses: ds.classes.length, inChannels: img.channels, imageSize: img.height };
  const labels = Array.from(ds.labels);
  const b = loadModelFile(files.baseline, { ...shape, arch: baselineArch });
  const baseline = await predictAll(b, ds, norm);
  b.dispose();
  const f = loadModelFile(files[stage2], { ...shape, arch });
  const focusnet = await predictAll(f, ds, norm);
  f.dispose();
  return { labels, baseline, focusnet, classes: ds.classes };
}
