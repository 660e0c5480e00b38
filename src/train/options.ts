// What a training run is given (TrainOptions) and what it records: one EpochRecord per
// stage and epoch (a metrics.jsonl line) and the Summary (summary.json).
import type { LoadOptions } from '../data/dataset.js';
import type { Normalization } from '../data/loader.js';
import type { ScheduleName, WarmupSetting } from '../optim/schedule.js';
import type { LossName, ObjectiveOptions } from './objective.js';
import type { ProgressMode } from './progress.js';
import type { GradScalerOptions } from '../amp/scaler.js';

export interface TrainOptions extends LoadOptions {
  data: string;
  /** the stage-2 architecture (a name of the registry, src/models/registry.ts) */
  arch: string;
  baselineArch?: string;
  /** a baseline checkpoint: skips stage 1 */
  baseline?: string;
  epochs: number;
  baselineEpochs?: number;
  batchSize: number;
  evalBatchSize?: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: ScheduleName;
  milestones?: number[];
  gamma?: number;
  /**
   * linear learning-rate warm-up over the first N steps of each stage (0 or undefined: none), or
   * 'auto': a fraction of an epoch's steps, capped (src/optim/schedule.ts; the command line's default)
   */
  warmupSteps?: WarmupSetting;
  /**
   * 'f32' (default), or 'mixed': the forward under amp.autocast (f16 operands, f32 accumulation)
   * and a GradScaler (dynamic loss scaling, overflowed steps skipped). Needs 'shader-f16'.
   */
  precision?: Precision;
  /** --precision mixed: the GradScaler's options (initScale, growthInterval, …; PyTorch's defaults) */
  gradScaler?: GradScalerOptions;
  seed: number;
  loss: LossName;
  objective: ObjectiveOptions;
  out: string;
  resume?: boolean;
  /** replace a run already in `out` (without it, train refuses a folder that holds one) */
  force?: boolean;
  /** --resume on data other than the run was started on (its fingerprint differs) */
  allowOtherData?: boolean;
  /**
   * compute the frozen baseline's logits once per stage 2 instead of every step; exact when the
   * training split is not augmented. undefined: on exactly there (true on augmented data: a note)
   */
  cacheBaseline?: boolean;
  /** random crop + flip; default: the data set's own default (off for IDX) */
  augment?: boolean;
  norm?: Normalization;
  /** use only the first N training / test images */
  trainLimit?: number;
  testLimit?: number;
  progress?: ProgressMode;
  /** steps between GPU readbacks (progress, NaN check) */
  logEvery?: number;
  /** stdout lines (epoch summaries, the table) */
  log?: (line: string) => void;
  /** 'both' (default): the baseline then stage 2; 'baseline': stage 1 only (baseline.safetensors) */
  stages?: 'both' | 'baseline';
  /** called after each epoch's checkpoint is written (the experiment copies baseline snapshots) */
  onCheckpoint?: (c: { stage: string; epoch: number; path: string }) => void | Promise<void>;
  /** testing aid: stop (as if killed) after this many epochs in total have been checkpointed */
  stopAfterEpochs?: number;
}

export type Precision = 'f32' | 'mixed';
export const PRECISIONS: readonly Precision[] = ['f32', 'mixed'];

/** One line of metrics.jsonl: a stage's epoch. */
export interface EpochRecord {
  stage: string;
  epoch: number;
  loss: number;
  train_acc: number;
  test_top1: number;
  test_top5: number;
  lr: number;
  images_per_s: number;
  seconds: number;
  train_seconds: number;
  data_ms_per_step: number;
  encode_ms_per_step: number;
  gpu_wait_ms_per_step: number;
  cached_baseline?: boolean;
  /** --precision mixed: the loss scale at the end of the epoch, and the steps of the epoch skipped because a gradient overflowed */
  loss_scale?: number;
  skipped_steps?: number;
}

/** summary.json: each stage's final top-1/top-5 (percent) under its name, and the run's facts. */
export interface Summary {
  baseline?: { top1: number; top5: number };
  focusnet?: { top1: number; top5: number };
  [k: string]: unknown;
}

/** The stage-2 model's name: 'focusnet', or the comparison method (ce, ls, kd). */
export function stageTwoName(loss: LossName): string {
  return loss === 'focus' ? 'focusnet' : loss;
}
