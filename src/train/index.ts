// The `train` namespace: the two-stage trainer, evaluation, checkpoints, progress.
export { train, evaluate, prepareData, summaryTable, stageTwoName, loadInto, DivergedError, StoppedError } from './trainer.js';
export type { TrainOptions, EpochRecord, Summary } from './trainer.js';
export { createModel, smallInputFor, Mlp, ARCHS, ArchError } from './arch.js';
export type { ArchOptions, ArchName } from './arch.js';
export { LOSSES, stageTwoLoss, needsBaseline } from './objective.js';
export type { LossName, ObjectiveOptions } from './objective.js';
export { MetricAccumulator } from './metrics.js';
export type { MetricSums } from './metrics.js';
export { runBatches } from './batches.js';
export type { DeviceBatch, LoopTiming, LoopOptions } from './batches.js';
export { Progress } from './progress.js';
export type { ProgressMode } from './progress.js';
export { encodeSafetensors, decodeSafetensors, readSafetensorsFile, writeFileAtomic, toHost, toDevice } from './safetensors.js';
export type { HostTensor } from './safetensors.js';
