// The two-stage trainer: train(options) runs
//   stage 1: the baseline, trained with cross-entropy (skipped when --baseline gives a
//            checkpoint, or when the stage-2 loss needs no baseline);
//   stage 2: FocusNet (or a comparison method: ce, ls, kd), trained from scratch with the
//            frozen baseline in eval mode under noGrad, fed the same batch (skipped with
//            stages: 'baseline', which trains and writes the baseline only);
// resuming from the last complete epoch with --resume, and writes into --out the model
// files, metrics.jsonl, summary.json and predictions.json. The parts live beside it: the loop
// of a stage (stage.ts), evaluation (evaluate.ts), the checkpoint format (checkpoint.ts) and
// its loader (load.ts), the summary (summary.ts), the shared run state (context.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gpu } from '../gpu/index.js';
import { InputError } from '../errors.js';
import { checkSplitLabels } from '../data/split.js';
import { archSpec } from '../models/registry.js';
import { Module } from '../nn/module.js';
import { needsBaseline } from './objective.js';
import { MetricAccumulator } from './metrics.js';
import { Progress } from './progress.js';
import { RunContext, makeLoader, buildStageModel, dataShape } from './context.js';
import { TrainOptions, Summary, stageTwoName } from './options.js';
import { prepareData, PreparedData } from './prepare.js';
import { evaluate } from './evaluate.js';
import { runStage } from './stage.js';
import { readCheckpoint, checkResumeConfig, checkpointHistory, modelMetadata, saveModelFile, CheckpointFile } from './checkpoint.js';
import { loadInto, modelFromCheckpoint } from './load.js';
import { writePredictions, writeSummary, summaryTable } from './summary.js';
import { writeFileAtomic } from './safetensors.js';

// what src/experiment and the command line import from here
export { evaluate, prepareData, loadInto, stageTwoName, summaryTable };
export { DivergedError, StoppedError } from './stage.js';
export type { TrainOptions, EpochRecord, Summary } from './options.js';

/** The checkpoint --resume continues from (stage 2's, else stage 1's), with the epochs it records. */
function findResume(ctx: RunContext, ck1: string, ck2: string | null): { stage1: CheckpointFile | null; stage2: CheckpointFile | null } {
  const { o, log } = ctx;
  let stage1: CheckpointFile | null = null;
  let stage2: CheckpointFile | null = null;
  if (ck2 !== null && existsSync(ck2)) stage2 = readCheckpoint(ck2);
  else if (existsSync(ck1) && !o.baseline) stage1 = readCheckpoint(ck1);
  const ck = stage2 ?? stage1;
  if (ck) {
    checkResumeConfig(ck, o);
    ctx.history = checkpointHistory(ck);
    log(`resuming from ${ck.path} (${ctx.history.length} epochs done)`);
  } else log(`--resume: no checkpoint in ${o.out}; starting from scratch`);
  return { stage1, stage2 };
}

/** Train (both stages as needed), write the output files, return summary.json's content. */
export async function train(options: TrainOptions, prepared?: PreparedData): Promise<Summary> {
  // architecture names are printed one way (the registry's), whatever spelling was given
  const o: TrainOptions = { ...options, arch: archSpec(options.arch).name, ...(options.baselineArch ? { baselineArch: archSpec(options.baselineArch).name } : {}) };
  const baselineOnly = checkStages(o);
  const log = o.log ?? ((s: string) => console.log(s));
  const { ds, train, test, norm } = prepared ?? prepareData(o);
  // Labels are checked once per data set here, on the host (the readers check their own
  // files; a caller's `prepared` splits get the same guarantee).
  checkSplitLabels(train, ds.numClasses, `training split of ${o.data}`);
  checkSplitLabels(test, ds.numClasses, `test split of ${o.data}`);
  mkdirSync(o.out, { recursive: true });
  const ctx: RunContext = {
    o, ds, train, test, norm,
    augment: o.augment ?? ds.augmentByDefault,
    acc: new MetricAccumulator(),
    progress: new Progress(o.progress ?? 'auto'),
    log,
    history: [],
    epochsDone: 0,
    stage2Name: stageTwoName(o.loss),
    predictions: {},
  };
  // the baseline's logits are the same every epoch when the training split is not augmented
  if (o.cacheBaseline === undefined) o.cacheBaseline = !ctx.augment;
  const E0 = o.baselineEpochs ?? o.epochs;
  const baselineArch = o.baselineArch ?? o.arch;
  const ck1 = join(o.out, 'checkpoint-baseline.safetensors');
  const ck2 = join(o.out, `checkpoint-${ctx.stage2Name}.safetensors`);
  const baselineFile = join(o.out, 'baseline.safetensors');
  const finalFile = join(o.out, `${ctx.stage2Name}.safetensors`);
  const resume = o.resume ? findResume(ctx, ck1, baselineOnly ? null : ck2) : { stage1: null, stage2: null };
  // metrics.jsonl holds exactly the completed epochs
  writeFileAtomic(join(o.out, 'metrics.jsonl'), ctx.history.map((h) => JSON.stringify(h) + '\n').join(''));
  log(
    `data: ${ds.format} at ${o.data}: ${train.n} training / ${test.n} test images, ${train.c}×${train.h}×${train.w}, ${ds.numClasses} classes; ` +
      `augmentation ${ctx.augment ? 'random crop + flip' : 'off'}; normalisation mean [${norm.mean.map((v) => v.toFixed(4))}] std [${norm.std.map((v) => v.toFixed(4))}]`,
  );
  log(`adapter: ${gpu().info.vendor} ${gpu().info.architecture}${gpu().info.isSoftware ? ' (software)' : ''}`);

  const summary: Summary = {};
  const started = performance.now();
  let baseline: Module | null = null;
  let baseSeconds = 0;
  const wantBaseline = baselineOnly || needsBaseline(o.loss) || !!o.baseline;
  const fileMeta = (arch: string, stage: string) => modelMetadata({ arch, stage, ...dataShape(ctx), norm });
  if (!wantBaseline) log(`note: --loss ${o.loss} needs no baseline, so stage 1 is skipped (pass --baseline FILE to compare against one)`);
  if (o.baseline) {
    const ck = readCheckpoint(o.baseline);
    const arch = archSpec(o.baselineArch ?? ck.info.arch ?? o.arch, 'the baseline architecture').name;
    baseline = modelFromCheckpoint(ck, { arch, ...dataShape(ctx), matchClasses: true });
    ctx.predictions.baseline = [];
    const ev = await evaluate(baseline, makeLoader(ctx, test, false), ctx.acc, ctx.predictions.baseline);
    summary.baseline = { top1: ev.top1, top5: ev.top5 };
    log(`baseline from ${o.baseline} (${arch}): test top-1 ${ev.top1.toFixed(2)}%  top-5 ${ev.top5.toFixed(2)}%`);
  } else if (wantBaseline) {
    baseline = buildStageModel(ctx, baselineArch, 1);
    if (resume.stage2) {
      // stage 1 finished before the interruption: its weights are in baseline.safetensors
      const ck = readCheckpoint(baselineFile);
      loadInto(baseline, ck.tensors, ck.prefix, baselineFile, baselineArch);
      const h = ctx.history.filter((r) => r.stage === 'baseline').pop();
      if (h) summary.baseline = { top1: h.test_top1, top5: h.test_top5 };
      baseSeconds = ctx.history.filter((r) => r.stage === 'baseline').reduce((a, r) => a + r.seconds, 0);
    } else {
      const r = await runStage(ctx, { name: 'baseline', stageNum: 1, model: baseline, arch: baselineArch, epochs: E0, teacher: null, loss: 'baseline', ckptPath: ck1, resumeFrom: resume.stage1 });
      summary.baseline = { top1: r.top1, top5: r.top5 };
      baseSeconds = r.seconds;
      await saveModelFile(baselineFile, baseline, fileMeta(baselineArch, 'baseline'));
    }
  }
  if (baselineOnly) {
    writeSummary(ctx, summary, { wantBaseline, baselineArch, baselineEpochs: E0, baselineSeconds: baseSeconds, stage2Seconds: null, started });
    log('');
    for (const line of summaryTable(summary, ctx.history)) log(line);
    ctx.acc.dispose();
    return summary;
  }
  const student = buildStageModel(ctx, o.arch, 2);
  const r2 = await runStage(ctx, {
    name: ctx.stage2Name,
    stageNum: 2,
    model: student,
    arch: o.arch,
    epochs: o.epochs,
    teacher: needsBaseline(o.loss) ? baseline : null,
    loss: o.loss,
    ckptPath: ck2,
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
  ctx.acc.dispose();
  return summary;
}

/** Whether `stages` asks for the baseline only (refusing a value it does not know, or nothing to train). */
function checkStages(o: TrainOptions): boolean {
  const st = o.stages ?? 'both';
  if (st !== 'both' && st !== 'baseline') throw new InputError(`train: stages ${JSON.stringify(st)}: expected 'both' or 'baseline'`);
  if (st === 'baseline' && o.baseline) throw new InputError(`train: stages 'baseline' trains the baseline, but a baseline checkpoint (${o.baseline}) was given: there is nothing to train`);
  return st === 'baseline';
}
