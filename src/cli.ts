// The `focusnet` command line: train, eval, info (and cam/report from the viz stream).
// Exit status: 0 success, 2 bad arguments or input (the message names the flag or
// file), 1 anything else (a diverged run, a GPU failure).
import { existsSync } from 'node:fs';
import { init, shutdown } from './index.js';
import { FocusnetError, InputError } from './errors.js';
import { DataError } from './data/errors.js';
import { train, evaluate, prepareData, DivergedError } from './train/trainer.js';
import { ARCHS, archSpec } from './models/registry.js';
import { LOSSES } from './train/objective.js';
import { AUTO_WARMUP } from './optim/schedule.js';
import { Loader, Normalization } from './data/loader.js';
import { readCheckpoint } from './train/checkpoint.js';
import { modelFromCheckpoint } from './train/load.js';
import { validateTrainOptions, checkMilestones } from './train/validate.js';
import { checkRunFolder } from './train/run-folder.js';
import { runCam, runReport, writeReport } from './viz/commands.js';
import { ArgError, FlagSpec, Flags, helpRequested, parseFlags, requireFlags } from './util/flags.js';
import type { TrainOptions } from './train/trainer.js';
import { runExperimentCommand } from './experiment/command.js';

export const DEFAULT_DATA = '/usr/share/datasets/fashion-mnist';
export const DEFAULT_EPOCHS = 3;

const HELP = `focusnet: a WebGPU tensor engine and the FocusNet method (two-stage training)

usage:
  focusnet train [--data DIR] [--arch ARCH] [--baseline-arch ARCH] [--baseline CHECKPOINT]
                 [--epochs E] [--baseline-epochs E0] [--batch-size B] [--lr LR]
                 [--seed S] [--loss focus|ce|kd|ls] [--loss-impl fused|composed]
                 [--out DIR] [--resume | --force] [--cache-baseline] [--precision f32|mixed]
                 [more options below]
  focusnet eval  --data DIR --arch ARCH --checkpoint FILE
  focusnet experiment (--preset NAME | --spec FILE.json) --data DIR --out DIR [--seeds 1,2,3,4,5]
                 [--dry-run] [train's schedule flags]
  focusnet info                      adapter in use, software or hardware, limits
  focusnet cam ... | focusnet report ...   (see focusnet cam --help)
  focusnet --help

train runs stage 1 (the baseline, cross-entropy) and stage 2 (FocusNet trained from
scratch next to the frozen baseline), evaluates top-1/top-5 after every epoch and writes
into --out: baseline.safetensors, focusnet.safetensors, metrics.jsonl, summary.json and
per-stage checkpoints (checkpoint-*.safetensors) that --resume continues from.

data (--data DIR, detected from the folder's files):
  IDX            train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...
  CIFAR-10/100   data_batch_*.bin + test_batch.bin, or train.bin + test.bin
  image folder   train/<class>/*.png|jpg and val/<class>/...
  default: ${DEFAULT_DATA} (Debian package dataset-fashion-mnist)

train options (defaults in brackets):
  --data DIR              data folder [${DEFAULT_DATA}]
  --arch ARCH             ${ARCHS.join(', ')} [lenet5]
  --baseline-arch ARCH    architecture of the baseline [--arch]
  --baseline FILE         baseline checkpoint (.safetensors): skips stage 1
  --epochs E              stage-2 epochs [${DEFAULT_EPOCHS}]
  --baseline-epochs E0    stage-1 epochs, may be 1 (an under-trained baseline) [--epochs]
  --batch-size B          [128]
  --eval-batch-size B     [max(B, 256)]
  --lr LR                 [0.1]     --momentum M [0.9]     --weight-decay WD [1e-4]
  --schedule S            multistep|cosine|constant [multistep]
  --milestones A,B        epochs where the lr drops ×gamma [50% and 75% of the epochs]
  --gamma G               [0.1]
  --warmup-steps N        linear lr warm-up over the first N steps of each stage
                          [auto: one epoch's steps, at most ${AUTO_WARMUP.cap}; docs/training.md]
  --precision P           f32|mixed: mixed runs convolutions and matmuls on f16 operands with
                          f32 accumulation, f32 master weights, dynamic loss scaling (skipped
                          steps and the scale in metrics.jsonl); needs 'shader-f16' [f32]
  --seed S                [1]
  --loss L                focus (FocusNet), ce (cross-entropy), ls (label smoothing),
                          kd (knowledge distillation from the baseline) [focus]
  --loss-impl I           fused|composed focus-picking loss [fused]
  --alpha A --beta B      focus-picking weights [1, 1]
  --rule R                multi-warm label rule: positive-logit|softmax [positive-logit]
  --label-smoothing E     for --loss ls [0.1]
  --temperature T         for --loss kd [4]     --kd-weight W  weight of the KD term [0.5]
  --focus-label-smoothing E  for --loss focus: smooths Lcls's target [0]
  --warm-temperature T    for --loss focus --rule softmax: softmax(zb / T) > 1/N [2]
  --out DIR               output folder [runs/focusnet]; a folder that holds a run is refused
                          unless --resume or --force says what to do with it
  --resume                continue the run in --out from its last complete epoch (the same
                          flags and the same data: both are checked against its checkpoint)
  --force                 replace the run in --out (its checkpoints, model files, metrics, report)
  --allow-other-data      with --resume: continue on data other than the run was started on
  --cache-baseline | --no-cache-baseline  compute the frozen baseline's logits once, not every
                          step [on where the training split is not augmented: exact there]
  --augment | --no-augment  random crop + flip [on for CIFAR and folders, off for IDX]
  --mean A,B,C --std A,B,C  normalisation [computed from the training split]
  --train-limit N --test-limit N   use only the first N images
  --num-classes N         classes of IDX data [10]
  --image-size N          side of image-folder images after resize + center crop [32]
  --cifar100-labels L     fine|coarse [fine]
  --progress P            auto|bar|plain|none [auto: a bar on a terminal, lines otherwise]
  --log-every N           steps between GPU readbacks (progress, NaN check) [50]

eval options: --data DIR --arch ARCH --checkpoint FILE [--batch-size B] [--test-limit N]

experiment: a grid of trainings (method × seed [× the preset's axis]) with statistics over seeds
  --preset NAME           methods (baseline, CE control, FocusNet, label smoothing, KD), ablation
                          (Lcls, + Ratt, + Rent, full), cross-arch (needs --baseline-arch), weak-baseline
                          (baselines of 1..E0 epochs, constant lr), rules (positive-logit vs softmax)
  --spec FILE.json        your own methods and axis (docs/experiments.md)
  --seeds A,B,...         [1,2,3,4,5]        --dry-run  print the grid and a time estimate
  train's flags for the schedule and data pass through (--epochs, --baseline-epochs, --lr, --train-limit, ...).
  Writes results.jsonl, summary.md, index.html into --out; a rerun skips finished runs and resumes the rest.

exit status: 0 success, 2 bad arguments or input (names the flag or file), 1 other failures.
Every option and file is checked before training starts; a closed stdout (| head) stops the
printing, not the training.`;

const TRAIN_FLAGS = {
  data: 'string', arch: 'string', 'baseline-arch': 'string', baseline: 'string',
  epochs: 'posint', 'baseline-epochs': 'posint', 'batch-size': 'posint', 'eval-batch-size': 'posint',
  lr: 'number', momentum: 'number', 'weight-decay': 'number', schedule: ['multistep', 'cosine', 'constant'],
  milestones: 'list', gamma: 'number', 'warmup-steps': 'uint', seed: 'int', loss: LOSSES, 'loss-impl': ['fused', 'composed'],
  alpha: 'number', beta: 'number', rule: ['positive-logit', 'softmax'], 'label-smoothing': 'number',
  temperature: 'number', 'kd-weight': 'number', 'focus-label-smoothing': 'number', 'warm-temperature': 'number',
  out: 'string', resume: 'bool', force: 'bool', 'allow-other-data': 'bool', 'cache-baseline': 'bool', 'no-cache-baseline': 'bool',
  augment: 'bool', 'no-augment': 'bool', mean: 'list', std: 'list', 'train-limit': 'posint', 'test-limit': 'posint',
  'num-classes': 'posint', 'image-size': 'posint', 'cifar100-labels': ['fine', 'coarse'],
  progress: ['auto', 'bar', 'plain', 'none'], 'log-every': 'posint', 'stop-after-epochs': 'posint',
  precision: ['f32', 'mixed'],
} as const satisfies FlagSpec;
const EVAL_FLAGS = {
  data: 'string', arch: 'string', checkpoint: 'string', 'batch-size': 'posint', 'test-limit': 'posint',
  'num-classes': 'posint', 'image-size': 'posint', 'cifar100-labels': ['fine', 'coarse'], mean: 'list', std: 'list',
} as const satisfies FlagSpec;

function norm(cmd: string, f: { mean?: number[]; std?: number[] }): Normalization | undefined {
  if (f.mean === undefined && f.std === undefined) return undefined;
  if (!Array.isArray(f.mean) || !Array.isArray(f.std)) throw new ArgError(`focusnet ${cmd}: --mean and --std go together`);
  if (f.mean.length !== f.std.length) throw new ArgError(`focusnet ${cmd}: --mean has ${f.mean.length} values, --std ${f.std.length}`);
  if (f.std.some((s) => s <= 0)) throw new ArgError(`focusnet ${cmd}: --std values must be > 0`);
  return { mean: f.mean, std: f.std };
}

/** An --arch value as the registry prints it (any case; an ArchError naming the command and flag otherwise). */
function archFlag(cmd: string, flag: string, value: string): string {
  return archSpec(value, `focusnet ${cmd}: --${flag}`).name;
}

function checkData(dir: string): void {
  if (dir === DEFAULT_DATA && !existsSync(dir)) {
    throw new DataError(
      dir,
      `Fashion-MNIST is not installed. Install it with\n    sudo apt-get install dataset-fashion-mnist\n  (or run scripts/setup.sh), or pass --data DIR with another data set.`,
    );
  }
}

/** TrainOptions from train's flags, with train's defaults (`experiment` uses it too, as `cmd`). */
function trainOptions(f: Flags<typeof TRAIN_FLAGS>, cmd = 'train'): TrainOptions {
  const data = f.data ?? DEFAULT_DATA;
  checkData(data);
  const epochs = f.epochs ?? DEFAULT_EPOCHS;
  if (f.augment && f['no-augment']) throw new ArgError(`focusnet ${cmd}: --augment and --no-augment contradict each other`);
  if (f.lr !== undefined && f.lr <= 0) throw new ArgError(`focusnet ${cmd}: --lr ${f.lr}: expected a number > 0`);
  if (f['cache-baseline'] && f['no-cache-baseline']) throw new ArgError(`focusnet ${cmd}: --cache-baseline and --no-cache-baseline contradict each other`);
  if (f.baseline !== undefined && !existsSync(f.baseline)) throw new DataError(f.baseline, '--baseline checkpoint does not exist');
  const o: TrainOptions = {
    data,
    arch: archFlag('train', 'arch', f.arch ?? 'lenet5'),
    baselineArch: f['baseline-arch'] === undefined ? undefined : archFlag('train', 'baseline-arch', f['baseline-arch']),
    baseline: f.baseline,
    epochs,
    baselineEpochs: f['baseline-epochs'],
    batchSize: f['batch-size'] ?? 128,
    evalBatchSize: f['eval-batch-size'],
    lr: f.lr ?? 0.1,
    momentum: f.momentum ?? 0.9,
    weightDecay: f['weight-decay'] ?? 1e-4,
    schedule: f.schedule ?? 'multistep',
    milestones: f.milestones,
    gamma: f.gamma,
    warmupSteps: f['warmup-steps'] ?? 'auto',
    precision: f.precision ?? 'f32',
    seed: f.seed ?? 1,
    loss: f.loss ?? 'focus',
    objective: {
      impl: f['loss-impl'] ?? 'fused',
      labelSmoothing: f['label-smoothing'] ?? 0.1,
      temperature: f.temperature ?? 4,
      kdWeight: f['kd-weight'] ?? 0.5,
      alpha: f.alpha ?? 1,
      beta: f.beta ?? 1,
      rule: f.rule ?? 'positive-logit',
      warmTemperature: f['warm-temperature'],
      focusLabelSmoothing: f['focus-label-smoothing'],
    },
    out: f.out ?? 'runs/focusnet',
    resume: !!f.resume,
    force: !!f.force,
    allowOtherData: !!f['allow-other-data'],
    cacheBaseline: f['cache-baseline'] ? true : f['no-cache-baseline'] ? false : undefined,
    augment: f.augment ? true : f['no-augment'] ? false : undefined,
    norm: norm(cmd, f),
    trainLimit: f['train-limit'],
    testLimit: f['test-limit'],
    numClasses: f['num-classes'],
    imageSize: f['image-size'],
    cifar100Labels: f['cifar100-labels'],
    progress: f.progress ?? 'auto',
    logEvery: f['log-every'],
    stopAfterEpochs: f['stop-after-epochs'],
  };
  // every option, also those only stage 2 uses, before any work (train() checks them again)
  validateTrainOptions(o, cmd);
  checkMilestones(o, cmd);
  return o;
}

async function cmdTrain(args: string[]): Promise<number> {
  const opts = trainOptions(parseFlags('train', args, TRAIN_FLAGS));
  checkRunFolder(opts); // --out: usable, and not another run's folder (unless --resume or --force)
  const prepared = prepareData(opts); // bad data fails here, before the GPU starts
  await init();
  await train(opts, prepared);
  // The run report (confusion matrices, changed class pairs, curves): a failure here
  // does not fail the training run, whose files are already written.
  try {
    await writeReport(opts.out, { data: opts.data });
    console.log(`report: ${opts.out}/index.html`);
  } catch (e) {
    console.error(`note: no report written (${e instanceof Error ? e.message : e}); run \`focusnet report --run ${opts.out} --data ${opts.data}\``);
  }
  return 0;
}

async function cmdEval(args: string[]): Promise<number> {
  const f = parseFlags('eval', args, EVAL_FLAGS);
  requireFlags('eval', f, ['data', 'arch', 'checkpoint']);
  const file = f.checkpoint;
  const arch = archFlag('eval', 'arch', f.arch);
  if (!existsSync(file)) throw new DataError(file, 'checkpoint does not exist');
  const ck = readCheckpoint(file);
  const savedNorm = ck.info.norm;
  const flagNorm = norm('eval', f);
  const prepared = prepareData(
    {
      data: f.data,
      testLimit: f['test-limit'],
      trainLimit: 1,
      norm: flagNorm ?? savedNorm,
      // the checkpoint's normalisation must fit the data (a wrong one names the file)
      normFrom: flagNorm ? undefined : file,
      numClasses: f['num-classes'],
      imageSize: f['image-size'] ?? ck.info.imageSize,
      cifar100Labels: f['cifar100-labels'],
    },
    'eval',
  );
  if (!savedNorm && !flagNorm) prepared.norm = prepareData({ data: f.data }, 'eval').norm;
  await init();
  const { ds, test } = prepared;
  const model = modelFromCheckpoint(ck, { arch, archFlag: 'focusnet eval: --arch', numClasses: ds.numClasses, inChannels: test.c, imageSize: test.h, matchClasses: true });
  const loader = new Loader(test, { batchSize: f['batch-size'] ?? 256, shuffle: false, norm: prepared.norm });
  const r = await evaluate(model, loader);
  console.log(JSON.stringify({ checkpoint: file, arch, data: f.data, images: r.count, top1: r.top1, top5: r.top5, seconds: r.seconds }));
  console.log(`top-1 ${r.top1.toFixed(2)}%  top-5 ${r.top5.toFixed(2)}%  on ${r.count} test images`);
  return 0;
}

async function cmdInfo(): Promise<number> {
  const g = await init();
  const L = g.limits;
  // features: the device's (shader-f16 means --precision mixed can run)
  console.log(JSON.stringify({ ...g.info, features: [...g.features].sort(), limits: { maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage, maxStorageBufferBindingSize: L.maxStorageBufferBindingSize, maxBufferSize: L.maxBufferSize, maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup } }, null, 2));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (helpRequested(rest)) {
    if (cmd === 'cam') return runCam(rest);
    if (cmd === 'report') return runReport(rest);
    console.log(HELP);
    return 0;
  }
  switch (cmd) {
    case 'train':
      return cmdTrain(rest);
    case 'eval':
      return cmdEval(rest);
    case 'info':
      return cmdInfo();
    case 'cam':
      return runCam(rest);
    case 'report':
      return runReport(rest);
    case 'experiment':
      return runExperimentCommand(rest, { flags: TRAIN_FLAGS, options: (f, c) => trainOptions(f as Flags<typeof TRAIN_FLAGS>, c) });
    default:
      throw new ArgError(`focusnet: unknown command '${cmd}' (commands: train, eval, info, cam, report, experiment; see focusnet --help)`);
  }
}

function exitCode(e: unknown): number {
  // bad flags, files and architecture names are the user's input: status 2
  return e instanceof InputError ? 2 : 1;
}

/**
 * A closed stdout or stderr (`focusnet train … | head`) stops the printing, never the work: a
 * write error on either (EPIPE) would otherwise be an unhandled 'error' event that kills the
 * process after the first epoch, with the run unfinished.
 */
function keepGoingWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}

keepGoingWhenOutputCloses();
main(process.argv.slice(2)).then(
  async (c) => {
    await shutdown().catch(() => {});
    process.exit(c);
  },
  async (e) => {
    const msg = e instanceof Error ? e.message : String(e);
    console.error(e instanceof DivergedError ? `focusnet: ${msg}` : msg.startsWith('focusnet') ? msg : `focusnet: ${msg}`);
    if (!(e instanceof FocusnetError) && e instanceof Error && e.stack) console.error(e.stack);
    await shutdown().catch(() => {});
    process.exit(exitCode(e));
  },
);
