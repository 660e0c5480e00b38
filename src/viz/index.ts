// viz: class activation maps (CAM, Grad-CAM) on the GPU, the CAM figure, and the run
// report (confusion matrices, class pairs, per-class accuracy, training curves).
// See docs/visualization.md.
export { runCam, runReport, writeReport } from './commands.js';
export { weightedChannelSum, gradChannelWeights, upsampleBilinear, classActivationMaps, softmaxCpu } from './cam.js';
export type { FeatureSplit, CamResult } from './cam.js';
export { splitModel, verifySplit, checkCamArch, ARCHS } from './split.js';
export { Canvas, jet, blues, diverging, renderImage } from './canvas.js';
export { lineChart, confusionHeatmap, niceTicks } from './charts.js';
export { camFigure, normalizeMap } from './figure.js';
export { buildReport, confusionMatrix, perClassAccuracy, pairChanges, readMetrics, readPredictions } from './report.js';
export type { Predictions, EpochMetrics, PairChange } from './report.js';
export { openDataSet } from './testset.js';
export type { DataSet, TestImage } from './testset.js';
export { predictionsFromCheckpoints } from './predict.js';
export { VizInputError } from './errors.js';
