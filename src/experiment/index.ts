// The `experiment` namespace: multi-seed comparisons of FocusNet against its baseline,
// a CE control, label smoothing and KD (presets or a JSON spec), their statistics and report.
export { parseSpec, checkSeeds, usesBaseline, SpecError, DEFAULT_SEEDS } from './spec.js';
export type { ExperimentSpec, MethodSpec, BaselineSpec, AxisSpec, SpecDefaults } from './spec.js';
export { PRESETS, presetSpec } from './presets.js';
export { buildPlan, scheduleOf, tracksFor, stableJson, configHash, methodOptions, objectiveFor } from './grid.js';
export type { Plan, RunCell, BaselineCell, Row, Comparison, Schedule, Track } from './grid.js';
export { Ledger, readRegistry, writeRegistry } from './ledger.js';
export type { ResultLine, Registry, StoredExperiment } from './ledger.js';
export { runPlan, ExperimentStopped } from './runner.js';
export type { RunnerOptions } from './runner.js';
export { tQuantile, meanSd, pairedDifference } from './stats.js';
export type { MeanSd, PairedDifference } from './stats.js';
export { experimentTables } from './tables.js';
export { summaryMarkdown, indexHtml, writeExperimentReport, loadTables } from './report.js';
export { parseExperimentArgs, runExperimentCommand, PASSED_TRAIN_FLAGS } from './command.js';
