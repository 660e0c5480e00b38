// What the stages of one training run share: the options, the prepared data (splits and
// normalisation), the GPU metric sums, the progress display, the epoch history (metrics.jsonl)
// and each stage's final test predictions; and the two things every stage builds the same
// way: its loaders and its seeded model.
import { Dataset } from '../data/dataset.js';
import type { DataFingerprint } from '../data/fingerprint.js';
import { Split } from '../data/split.js';
import { Loader, Normalization } from '../data/loader.js';
import { deriveSeed } from '../util/rng.js';
import { createModel } from '../models/registry.js';
import { Module } from '../nn/module.js';
import { MetricAccumulator } from './metrics.js';
import { Progress } from './progress.js';
import { EpochRecord, TrainOptions } from './options.js';

export interface RunContext {
  o: TrainOptions;
  ds: Dataset;
  train: Split;
  test: Split;
  norm: Normalization;
  augment: boolean;
  acc: MetricAccumulator;
  progress: Progress;
  log: (s: string) => void;
  /** every completed epoch of the run, resumed ones included */
  history: EpochRecord[];
  /** epochs completed in this process (for stopAfterEpochs) */
  epochsDone: number;
  stage2Name: string;
  /** test-split predictions of each stage's final model, for predictions.json */
  predictions: { baseline?: number[]; stage2?: number[] };
  /** the options a resumed run must share (resume.ts configKey), saved in every checkpoint */
  config: Record<string, unknown>;
  /** the fingerprint of the data the run trains on, saved in every checkpoint */
  data: DataFingerprint;
  /** the training steps of an epoch */
  stepsPerEpoch: number;
  /** the files of a run that were in --out when this one started (run-folder.ts) */
  runFiles: string[];
  /** what the run created and disposes when it ends (the optimizers; the models are disposed by train()) */
  owned: { dispose(): void }[];
}

/** A training loader (shuffled, augmented when the run augments, last partial batch dropped) or an evaluation loader. */
export function makeLoader(ctx: RunContext, split: Split, trainMode: boolean): Loader {
  const pad = ctx.augment ? Math.max(1, Math.round(split.h / 8)) : 0;
  return new Loader(split, {
    batchSize: trainMode ? ctx.o.batchSize : (ctx.o.evalBatchSize ?? Math.max(ctx.o.batchSize, 256)),
    shuffle: trainMode,
    dropLast: trainMode,
    cropPadding: trainMode ? pad : 0,
    flip: trainMode && ctx.augment,
    norm: ctx.norm,
    seed: ctx.o.seed,
  });
}

/** The data's shape as the registry builds models for it. */
export function dataShape(ctx: RunContext) {
  return { numClasses: ctx.ds.numClasses, inChannels: ctx.train.c, imageSize: ctx.train.h };
}

/** A new model of `arch` for stage `stage` (1 or 2), its initial weights seeded by (seed, stage): a seed fixes the whole run. */
export function buildStageModel(ctx: RunContext, arch: string, stage: number): Module {
  return createModel(arch, { ...dataShape(ctx), seed: deriveSeed(ctx.o.seed, stage, 0x1417) });
}
