// `focusnet cam` and `focusnet report`: each returns the exit status (0 ok, 2 bad
// arguments or input, with a message naming the flag or file).

import { dirname, hostFiles, resolve } from '../platform/files.js';
import { init } from '../gpu/index.js';
import { tensor } from '../tensor/index.js';
import { classActivationMaps, softmaxCpu } from './cam.js';
import { splitModel } from '../models/registry.js';
import { camFigure, CamColumn } from './figure.js';
import { openDataSet } from './testset.js';
import { checkArch, checkCamArch, verifySplit, ARCHS } from './split.js';
import { buildReport, readMetrics } from './report.js';
import { predictionsFromCheckpoints, stage2Name } from './predict.js';
import { VizInputError } from './errors.js';
import { InputError } from '../errors.js';
import { readCheckpointInfo } from '../train/checkpoint.js';
import { loadModelFile } from '../train/load.js';
import { ensureWritableFolder, probeWritable, writeOutputFile } from '../train/out-folder.js';
import { ArgError, FlagSpec, helpRequested, parseFlags, requireFlags } from '../util/flags.js';

const CAM_HELP = { help: 'focusnet cam --help' };
const REPORT_HELP = { help: 'focusnet report --help' };

export const CAM_USAGE = `usage: focusnet cam [--arch ARCH] --checkpoint FILE [--baseline FILE] [--baseline-arch ARCH]
                    --data DIR --index I [--out FILE.png] [--method cam|gradcam] [--max-classes K]
                    [--image-size N]
  ARCH: ${ARCHS.join(', ')} (default: the arch recorded in the checkpoint).
  Class activation maps of test image I for its true class and the classes the baseline
  finds confusing (positive baseline logit), baseline and FocusNet side by side.
  --max-classes K   rows in the figure (true class + K-1 confusing classes) [5]
  --image-size N    image-folder data: side after resize + center crop [from the checkpoint, else 32]`;

export const REPORT_USAGE = `usage: focusnet report --run DIR [--data DIR [--arch ARCH] [--baseline-arch ARCH]]
  Confusion matrices, most changed class pairs, per-class accuracy and training curves of
  a training run, written as PNGs and index.html into DIR. --data/--arch compute the
  test predictions from the run's checkpoints when DIR has no predictions.json.`;

const CAM_FLAGS = {
  arch: 'string', checkpoint: 'string', baseline: 'string', 'baseline-arch': 'string', data: 'string',
  index: 'uint', out: 'string', method: ['cam', 'gradcam'], 'max-classes': 'posint', 'image-size': 'posint',
} as const satisfies FlagSpec;
const REPORT_FLAGS = { run: 'string', data: 'string', arch: 'string', 'baseline-arch': 'string' } as const satisfies FlagSpec;

async function guarded(fn: () => Promise<void>, what: string, usage: string, args: string[]): Promise<number> {
  if (helpRequested(args)) {
    console.log(usage);
    return 0;
  }
  try {
    await fn();
    return 0;
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(e.message);
      return 2;
    }
    if (e instanceof InputError) {
      console.error(`focusnet ${what}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

export async function runCam(args: string[]): Promise<number> {
  return guarded(async () => {
    const f = parseFlags('cam', args, CAM_FLAGS, CAM_HELP);
    requireFlags('cam', f, ['checkpoint', 'data', 'index'], CAM_HELP);
    const fs = hostFiles('viz.runCam');
    if (!fs.exists(f.checkpoint)) throw new VizInputError(`--checkpoint ${f.checkpoint}: no such file`);
    if (f.baseline && !fs.exists(f.baseline)) throw new VizInputError(`--baseline ${f.baseline}: no such file`);
    // the figure's file: a PNG in a folder that can be written (created when missing), found before any work
    const out = resolve(f.out ?? `cam_${f.index}.png`);
    if (!/\.png$/i.test(out)) throw new VizInputError(`--out ${f.out}: the figure is a PNG; give a name ending in .png`);
    if (fs.exists(out) && fs.stat(out).isDirectory()) throw new ArgError(`focusnet cam: --out ${f.out}: is a folder; give a file name ending in .png`);
    ensureWritableFolder(dirname(out), 'focusnet cam: --out');
    // --arch defaults to what the trainer recorded in the model file's metadata.
    const info = readCheckpointInfo(f.checkpoint);
    const baseInfo = f.baseline ? readCheckpointInfo(f.baseline) : undefined;
    const arch = checkCamArch(f.arch ?? info.arch).name;
    const baseArch = f['baseline-arch'] || baseInfo?.arch ? checkCamArch(f['baseline-arch'] ?? baseInfo?.arch, '--baseline-arch').name : arch;
    const index = f.index;
    const maxClasses = f['max-classes'] ?? 5;
    const method = f.method;
    if (f['image-size'] !== undefined && f['image-size'] < 8) throw new ArgError(`focusnet cam: --image-size ${f['image-size']}: must be at least 8`);
    const ds = openDataSet(f.data, { imageSize: f['image-size'] ?? info.imageSize });
    if (index >= ds.testCount) throw new VizInputError(`--index ${index} is beyond the test split of ${f.data} (${ds.testCount} images: 0..${ds.testCount - 1})`);
    const img = ds.image(index);
    if (img.label >= ds.classes.length) throw new VizInputError(`--data: label ${img.label} of test image ${index} is beyond the ${ds.classes.length} classes`);

    await init();
    // The trainer's normalisation (recorded in the model file), else the training split's statistics.
    const norm = info.norm && info.norm.mean.length === img.channels ? info.norm : ds.stats();
    const x = tensor(ds.loader(norm, 1).batch(index).x, [1, img.channels, img.height, img.width]);
    const shape = { numClasses: ds.classes.length, inChannels: img.channels, imageSize: img.height };
    const focus = loadModelFile(f.checkpoint, { ...shape, arch });
    const focusSplit = splitModel(arch, focus);
    if (method === 'cam' && !focusSplit.fcWeight) {
      throw new VizInputError(`--method cam: ${arch} does not end in global average pooling + linear; use --method gradcam (the default for it)`);
    }
    const zf = await verifySplit(focus, focusSplit, x, `${arch} (${f.checkpoint})`);
    let classIds: number[];
    const columns: CamColumn[] = [];
    const scale = Math.max(1, Math.floor(160 / img.width));
    const size: [number, number] = [img.height * scale, img.width * scale];
    const pick = (z: Float32Array) => {
      // The multi-warm label's classes: positive logit, plus the true class (first).
      const conf = [...z.keys()].filter((k) => z[k] > 0 && k !== img.label).sort((a, b) => z[b] - z[a]);
      return [img.label, ...conf].slice(0, maxClasses);
    };
    if (f.baseline) {
      const base = loadModelFile(f.baseline, { ...shape, arch: baseArch });
      const baseSplit = splitModel(baseArch, base);
      if (method === 'cam' && !baseSplit.fcWeight) {
        throw new VizInputError(`--method cam: the baseline's ${baseArch} does not end in global average pooling + linear; use --method gradcam`);
      }
      const zb = await verifySplit(base, baseSplit, x, `${baseArch} (${f.baseline})`);
      classIds = pick(zb);
      const rb = await classActivationMaps(baseSplit, x, classIds, { method, size });
      columns.push({ title: `baseline (${rb.method === 'cam' ? 'CAM' : 'Grad-CAM'})`, maps: rb.maps, probs: softmaxCpu(zb) });
    } else classIds = pick(zf);
    const rf = await classActivationMaps(focusSplit, x, classIds, { method, size });
    columns.push({ title: `FocusNet (${rf.method === 'cam' ? 'CAM' : 'Grad-CAM'})`, maps: rf.maps, probs: softmaxCpu(zf) });
    x.dispose();
    const fig = camFigure({
      image: img.pixels, channels: img.channels, height: img.height, width: img.width, scale,
      classIds, classNames: ds.classes, label: img.label,
      heading: `test image ${index}: ${ds.classes[img.label] ?? img.label}`,
      columns,
    });
    writeOutputFile(out, fig.toPng(), 'focusnet cam: --out');
    console.log(`focusnet cam: wrote ${out} (classes: ${classIds.map((k) => ds.classes[k] ?? k).join(', ')})`);
  }, 'cam', CAM_USAGE, args);
}

/** Write the report of a training run folder (PNG charts and index.html beside them). */
export async function writeReport(runDir: string, opts: { data?: string; arch?: string; baselineArch?: string } = {}): Promise<void> {
  const fs = hostFiles('viz.writeReport');
  readMetrics(runDir); // a folder without metrics fails before any slow work
  probeWritable(runDir, 'focusnet report: --run'); // and one the report cannot be written into
  let predictions;
  if (opts.data && !fs.exists(resolve(runDir, 'predictions.json'))) {
    // --arch defaults to what the trainer recorded in the model files.
    const fi = readCheckpointInfo(resolve(runDir, `${stage2Name(runDir)}.safetensors`));
    const bi = readCheckpointInfo(resolve(runDir, 'baseline.safetensors'));
    const arch = checkArch(opts.arch ?? fi.arch).name;
    const baseArch = opts.baselineArch || bi.arch ? checkArch(opts.baselineArch ?? bi.arch, '--baseline-arch').name : arch;
    await init();
    predictions = await predictionsFromCheckpoints(runDir, opts.data, arch, baseArch);
  }
  await buildReport(runDir, { predictions });
}

export async function runReport(args: string[]): Promise<number> {
  return guarded(async () => {
    const f = parseFlags('report', args, REPORT_FLAGS, REPORT_HELP);
    requireFlags('report', f, ['run'], REPORT_HELP);
    await writeReport(f.run, { data: f.data, arch: f.arch, baselineArch: f['baseline-arch'] });
    console.log(`focusnet report: wrote ${resolve(f.run, 'index.html')}`);
  }, 'report', REPORT_USAGE, args);
}
