// The two-stage trainer: train(options) runs
//   stage 1: the baseline, trained with cross-entropy (skipped when --baseline gives a
//            checkpoint, or when the stage-2 loss needs no baseline);
//   stage 2: FocusNet (or a comparison method: ce, ls, kd), trained from scratch with the
//            frozen baseline in eval mode under noGrad, fed the same batch (skipped with
//            stages: 'baseline', which trains and writes the baseline only);
// resuming from the last complete epoch with --resume, and writes into --out the model
// files, metrics.jsonl, summary.json and predictions.json. The parts live beside it: the loop
// of a stage (stage.ts), evaluation (evaluate.ts), the checkpoint format (checkpoint.ts, its
// metadata fields in metadata.ts) and its loader (load.ts), what --resume checks (resume.ts),
// the option checks (validate.ts), the run folder (run-folder.ts, out-folder.ts), the summary
// (summary.ts), the shared run state (context.ts).
import { hostFiles, join } from '../platform/files.js';
import { gpu } from '../gpu/index.js';
import { InputError } from '../errors.js';
import { checkSplitLabels } from '../data/split.js';
import { fingerprint } from '../data/fingerprint.js';
import { archSpec } from '../models/registry.js';
import { Module } from '../nn/module.js';
import { needsBaseline } from './objective.js';
import { MetricAccumulator } from './metrics.js';
import { Progress } from './progress.js';
import { RunContext, makeLoader, buildStageModel, dataShape } from './context.js';
import { TrainOptions, Summary, stageTwoName } from './options.js';
import { prepareData, checkSplits, checkNormalization, PreparedData } from './prepare.js';
import { validateTrainOptions, checkRunData, checkPrecisionSupport } from './validate.js';
import { checkRunFolder, replaceRun, removeStaleTemps } from './run-folder.js';
import { configKey, findResume, checkResumeFits, ResumePoint } from './resume.js';
import { evaluate } from './evaluate.js';
import { runStage } from './stage.js';
import { readCheckpoint, modelMetadata, saveModelFile } from './checkpoint.js';
import { loadInto, modelFromCheckpoint } from './load.js';
import { writePredictions, writeSummary, summaryTable } from './summary.js';
import { writeFileAtomic } from './safetensors.js';

// what src/experiment and the command line import from here
export { evaluate, prepareData, loadInto, stageTwoName, summaryTable };
export { DivergedError, StoppedError } from './stage.js';
export type { TrainOptions, EpochRecord, Summary } from './options.js';

/**
 * Train (both stages as needed), write the output files, return summary.json's content.
 * Before anything trains or any file in --out changes, everything is checked: the options,
 * the folder (a run in it is refused without --resume or --force), the data, and with
 * --resume the checkpoint against the options and the data. Whatever the run created on the
 * GPU (models, optimizers, metric sums) is disposed when it ends, also when it fails.
 */
export async function train(options: TrainOptions, prepared?: PreparedData): Promise<Summary> {
  const fs = hostFiles('train.train');
  // architecture names are printed one way (the registry's), whatever spelling was given
  const o: TrainOptions = {
    ...options,
    arch: archSpec(options.arch, 'focusnet train: --arch').name,
    ...(options.baselineArch ? { baselineArch: archSpec(options.baselineArch, 'focusnet train: --baseline-arch').name } : {}),
  };
  validateTrainOptions(o);
  checkStages(o);
  checkPrecisionSupport(o);
  const log = o.log ?? ((s: string) => console.log(s));
  const runFiles = checkRunFolder(o);
  const { ds, train, test, norm } = prepared ?? prepareData(o);
  // The splits, labels and normalisation are checked here once more, on the host, so that a
  // caller's `prepared` data gets the same guarantees as the command line's.
  checkSplits(ds, train, test);
  checkSplitLabels(train, ds.numClasses, `training split of ${o.data}`);
  checkSplitLabels(test, ds.numClasses, `test split of ${o.data}`);
  checkNormalization(norm, train.c, o.data, o.norm ? '--mean/--std' : undefined);
  checkRunData(o, train);
  const augment = o.augment ?? ds.augmentByDefault;
  // the baseline's logits are the same every epoch when the training split is not augmented
  if (o.cacheBaseline === undefined) o.cacheBaseline = !augment;
  const ctx: RunContext = {
    o, ds, train, test, norm, augment,
    acc: new MetricAccumulator(),
    progress: new Progress(o.progress ?? 'auto'),
    log,
    history: [],
    epochsDone: 0,
    stage2Name: stageTwoName(o.loss),
    predictions: {},
    config: configKey(o, augment),
    data: fingerprint({ format: ds.format, dir: ds.dir, train, test }),
    stepsPerEpoch: 0,
    runFiles,
    owned: [],
  };
  ctx.stepsPerEpoch = makeLoader(ctx, train, true).batchCount;
  const models: Module[] = [];
  try {
    return await run(ctx, models);
  } finally {
    ctx.progress.stop();
    for (const m of models) m.dispose();
    for (const x of ctx.owned) x.dispose();
    ctx.acc.dispose();
  }
}

async function run(ctx: RunContext, models: Module[]): Promise<Summary> {
  const { o, log, test } = ctx;
  const baselineOnly = o.stages === 'baseline';
  const E0 = o.baselineEpochs ?? o.epochs;
  const baselineArch = o.baselineArch ?? o.arch;
  const wantBaseline = baselineOnly || needsBaseline(o.loss) || !!o.baseline;
  const trainsBaseline = (baselineOnly || needsBaseline(o.loss)) && !o.baseline;
  const files = {
    ck1: join(o.out, 'checkpoint-baseline.safetensors'),
    ck2: join(o.out, `checkpoint-${ctx.stage2Name}.safetensors`),
    baselineFile: join(o.out, 'baseline.safetensors'),
    trainsBaseline,
    trainsStage2: !baselineOnly,
    E0,
  };
  const finalFile = join(o.out, `${ctx.stage2Name}.safetensors`);
  const resume: ResumePoint = o.resume ? findResume(ctx, files) : { stage1: null, stage2: null, baselineModel: null };
  const { norm } = ctx;

  // Every model is built (and every file it loads from checked) before anything in --out changes.
  const own = <M extends Module>(m: M): M => (models.push(m), m);
  let baseline: Module | null = null;
  let givenArch = baselineArch;
  if (o.baseline) {
    const ck = readCheckpoint(o.baseline);
    givenArch = archSpec(o.baselineArch ?? ck.info.arch ?? o.arch, 'the baseline architecture').name;
    baseline = own(modelFromCheckpoint(ck, { arch: givenArch, archFlag: 'focusnet train: --baseline-arch', ...dataShape(ctx), matchClasses: true }));
  } else if (trainsBaseline) {
    baseline = own(buildStageModel(ctx, baselineArch, 1));
    if (resume.baselineModel) loadInto(baseline, resume.baselineModel.tensors, resume.baselineModel.prefix, files.baselineFile, baselineArch);
    else if (resume.stage1) checkResumeFits(resume.stage1, baseline, baselineArch);
  }
  const student = baselineOnly ? null : own(buildStageModel(ctx, o.arch, 2));
  if (student && resume.stage2) checkResumeFits(resume.stage2, student, o.arch);

  if (o.force && ctx.runFiles.length) log(`--force: removed the earlier run in ${o.out} (${replaceRun(o.out).join(', ')})`);
  const stale = removeStaleTemps(o.out);
  if (stale.length) log(`removed ${stale.length} temporary file(s) of interrupted writes in ${o.out}: ${stale.join(', ')}`);
  // metrics.jsonl holds exactly the completed epochs
  writeFileAtomic(join(o.out, 'metrics.jsonl'), ctx.history.map((h) => JSON.stringify(h) + '\n').join(''));
  log(
    `data: ${ctx.ds.format} at ${o.data}: ${ctx.train.n} training / ${test.n} test images, ${ctx.train.c}×${ctx.train.h}×${ctx.train.w}, ${ctx.ds.numClasses} classes; ` +
      `augmentation ${ctx.augment ? 'random crop + flip' : 'off'}; normalisation mean [${norm.mean.map((v) => v.toFixed(4))}] std [${norm.std.map((v) => v.toFixed(4))}]`,
  );
  log(`adapter: ${gpu().info.vendor} ${gpu().info.architecture}${gpu().info.isSoftware ? ' (software)' : ''}`);

  const summary: Summary = {};
  const started = performance.now();
  let baseSeconds = 0;
  const fileMeta = (arch: string, stage: string) => modelMetadata({ arch, stage, ...dataShape(ctx), norm });
  if (!wantBaseline) log(`note: --loss ${o.loss} needs no baseline, so stage 1 is skipped (pass --baseline FILE to compare against one)`);
  if (o.baseline && baseline) {
    ctx.predictions.baseline = [];
    const ev = await evaluate(baseline, makeLoader(ctx, test, false), ctx.acc, ctx.predictions.baseline);
    summary.baseline = { top1: ev.top1, top5: ev.top5 };
    log(`baseline from ${o.baseline} (${givenArch}): test top-1 ${ev.top1.toFixed(2)}%  top-5 ${ev.top5.toFixed(2)}%`);
  } else if (baseline) {
    if (resume.stage2) {
      // stage 1 finished before the interruption: its weights are in baseline.safetensors
      const h = ctx.history.filter((r) => r.stage === 'baseline').pop();
      if (h) summary.baseline = { top1: h.test_top1, top5: h.test_top5 };
      baseSeconds = ctx.history.filter((r) => r.stage === 'baseline').reduce((a, r) => a + r.seconds, 0);
    } else {
      const r = await runStage(ctx, { name: 'baseline', stageNum: 1, model: baseline, arch: baselineArch, epochs: E0, teacher: null, loss: 'baseline', ckptPath: files.ck1, resumeFrom: resume.stage1 });
      summary.baseline = { top1: r.top1, top5: r.top5 };
      baseSeconds = r.seconds;
      await saveModelFile(files.baselineFile, baseline, fileMeta(baselineArch, 'baseline'));
    }
  }
  if (!student) {
    // stages: 'baseline': stage 1 alone
    writeSummary(ctx, summary, { wantBaseline, baselineArch, baselineEpochs: E0, baselineSeconds: baseSeconds, stage2Seconds: null, started });
    log('');
    for (const line of summaryTable(summary, ctx.history)) log(line);
    return summary;
  }
  const r2 = await runStage(ctx, {
    name: ctx.stage2Name,
    stageNum: 2,
    model: student,
    arch: o.arch,
    epochs: o.epochs,
    teacher: needsBaseline(o.loss) ? baseline : null,
    loss: o.loss,
    ckptPath: files.ck2,
    resumeFrom: resume.stage2,
  });
  await saveModelFile(finalFile, student, fileMeta(o.arch, ctx.stage2Name));
  summary[ctx.stage2Name] = { top1: r2.top1, top5: r2.top5 };
  if (baseline && ctx.predictions.stage2 && !ctx.predictions.baseline) {
    // resumed after stage 1: the frozen baseline's predictions take one evaluation pass, and
    // only when stage 2's final evaluation ran in this run (predictions.json needs both)
    ctx.predictions.baseline = [];
    await evaluate(baseline, makeLoader(ctx, test, false), ctx.acc, ctx.predictions.baseline);
  }
  writePredictions(ctx);
  writeSummary(ctx, summary, { wantBaseline, baselineArch, baselineEpochs: E0, baselineSeconds: baseSeconds, stage2Seconds: r2.seconds, started });
  log('');
  for (const line of summaryTable(summary, ctx.history)) log(line);
  return summary;
}

/** `stages`: 'both' (the default) or 'baseline', which needs a baseline to train (not one given). */
function checkStages(o: TrainOptions): void {
  const st = o.stages ?? 'both';
  if (st !== 'both' && st !== 'baseline') throw new InputError(`train: stages ${JSON.stringify(st)}: expected 'both' or 'baseline'`);
  if (st === 'baseline' && o.baseline) throw new InputError(`train: stages 'baseline' trains the baseline, but a baseline checkpoint (${o.baseline}) was given: there is nothing to train`);
}
