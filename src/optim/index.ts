// The `optim` namespace: SGD (one fused update per parameter arena) and the learning-rate schedules.
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { multiStep, cosine, constant, namedSchedule, perStep, linearWarmup, autoWarmupSteps, warmupStepsFor, AUTO_WARMUP, SCHEDULES } from './schedule.js';
export type { Schedule, StepSchedule, ScheduleName, WarmupSetting } from './schedule.js';
