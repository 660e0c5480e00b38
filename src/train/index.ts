// The `train` namespace: the two-stage trainer, evaluation, checkpoints (format and loader),
// the batch loop, metrics, progress.
export { train, evaluate, prepareData, summaryTable, stageTwoName, loadInto, DivergedError, StoppedError } from './trainer.js';
export type { TrainOptions, EpochRecord, Summary } from './trainer.js';
export type { PreparedData } from './prepare.js';
export { createModel, smallInputFor, ARCHS, ArchError } from '../models/registry.js';
export { Mlp } from '../models/mlp.js';
export type { ArchOptions, ArchName } from '../models/registry.js';
export { modelFromCheckpoint, loadModelFile } from './load.js';
export type { ModelFromCheckpointOptions } from './load.js';
export { readCheckpoint, readCheckpointInfo, checkpointFromBytes, checkpointInfo, saveModelFile, encodeModelFile, saveCheckpoint, modelMetadata, MODEL_FORMAT, CHECKPOINT_FORMAT } from './checkpoint.js';
export type { CheckpointFile, CheckpointInfo, CheckpointState } from './checkpoint.js';
export { LOSSES, stageTwoLoss, needsBaseline, FOCUS_DEFAULTS } from './objective.js';
export type { LossName, ObjectiveOptions } from './objective.js';
export { MetricAccumulator } from './metrics.js';
export type { MetricSums } from './metrics.js';
export { runBatches } from './batches.js';
export type { DeviceBatch, LoopTiming, LoopOptions } from './batches.js';
export { Progress } from './progress.js';
export type { ProgressMode } from './progress.js';
export { encodeSafetensors, decodeSafetensors, decodeSafetensorsFile, readSafetensorsFile, writeFileAtomic, toHost, toDevice } from './safetensors.js';
export type { HostTensor } from './safetensors.js';
export { validateTrainOptions } from './validate.js';
export { removeStaleTemps } from './run-folder.js';
