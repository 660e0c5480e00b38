// The grid of an experiment: a spec and the command line's schedule expand into
//   baselines  one CE training per (seed, baseline architecture, lr schedule, epochs),
//              each trained once and shared by every method that needs it;
//   runs       one stage-2 training per (method, seed[, axis value]);
//   rows       what the tables show (a method at one axis value, over the seeds);
//   comparisons  which row is compared with which, seed by seed.
// Every baseline and run has an id derived from its whole configuration (a readable
// prefix and a hash), so the same training asked for by two presets, or by a rerun, is
// found and reused, and a changed flag gives new runs instead of mixing old and new.
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { resolve } from '../platform/files.js';
import type { TrainOptions } from '../train/trainer.js';
import { FOCUS_DEFAULTS, ObjectiveOptions } from '../train/objective.js';
import type { WarmupSetting } from '../optim/schedule.js';
import { ExperimentSpec, MethodSpec, ScheduleName, usesBaseline } from './spec.js';

/** The part of a training's configuration that every cell of an experiment shares. */
export interface Schedule {
  data: string;
  epochs: number;
  batchSize: number;
  evalBatchSize: number | null;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: ScheduleName;
  milestones: number[] | null;
  gamma: number | null;
  warmupSteps: WarmupSetting;
  augment: boolean | null;
  norm: { mean: number[]; std: number[] } | null;
  trainLimit: number | null;
  testLimit: number | null;
  numClasses: number | null;
  imageSize: number | null;
  cifar100Labels: string | null;
  impl: 'fused' | 'composed';
  cacheBaseline: boolean;
}

export interface BaselineCell {
  id: string;
  arch: string;
  seed: number;
  epochs: number;
  schedule: ScheduleName;
  config: Record<string, unknown>;
}

export interface RunCell {
  id: string;
  method: MethodSpec;
  seed: number;
  axisValue: number | string | null;
  baseline: BaselineCell | null;
  /** the method's loss options with the trainer's defaults filled in */
  options: Record<string, number | string>;
  config: Record<string, unknown>;
}

export interface Row {
  key: string;
  method: string;
  label: string;
  axisValue: number | string | null;
  baseline: boolean;
  /** seed → baseline or run id */
  cells: Record<string, string>;
}

export interface Comparison {
  row: string;
  ref: string;
  /** 'baseline', 'control' or 'method' */
  kind: string;
}

export interface Plan {
  spec: ExperimentSpec;
  schedule: Schedule;
  baselines: BaselineCell[];
  runs: RunCell[];
  rows: Row[];
  comparisons: Comparison[];
}

const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

export function scheduleOf(o: TrainOptions): Schedule {
  return {
    data: resolve(o.data),
    epochs: o.epochs,
    batchSize: o.batchSize,
    evalBatchSize: nul(o.evalBatchSize),
    lr: o.lr,
    momentum: o.momentum,
    weightDecay: o.weightDecay,
    schedule: o.schedule,
    milestones: nul(o.milestones),
    gamma: nul(o.gamma),
    warmupSteps: o.warmupSteps ?? 0,
    augment: nul(o.augment),
    norm: nul(o.norm),
    trainLimit: nul(o.trainLimit),
    testLimit: nul(o.testLimit),
    numClasses: nul(o.numClasses),
    imageSize: nul(o.imageSize),
    cifar100Labels: nul(o.cifar100Labels),
    impl: o.objective.impl,
    cacheBaseline: !!o.cacheBaseline,
  };
}

/** JSON with sorted keys: the same configuration always gives the same text. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export function configHash(config: unknown): string {
  return bytesToHex(sha256(utf8ToBytes(stableJson(config)))).slice(0, 8);
}

/** The schedule a baseline trains with: its own lr schedule and epochs; no stage-2 settings. */
export function baselineSchedule(s: Schedule, schedule: ScheduleName): Record<string, unknown> {
  const { epochs: _e, impl: _i, cacheBaseline: _c, ...rest } = s;
  return { ...rest, schedule };
}

export function baselineCell(s: Schedule, arch: string, seed: number, epochs: number, schedule: ScheduleName): BaselineCell {
  const config = { kind: 'baseline', arch, seed, epochs, schedule: baselineSchedule(s, schedule) };
  return { id: `baseline-${arch}-${schedule}-e${epochs}-s${seed}-${configHash(config)}`, arch, seed, epochs, schedule, config };
}

/**
 * A method's loss options under the loss's own names (focus: those of losses.focusPicking), with
 * the trainer's defaults (train's flags) filled in: what results.jsonl records and ids hash.
 */
export function methodOptions(m: MethodSpec, o: ObjectiveOptions): Record<string, number | string> {
  const impl = m.impl ?? o.impl;
  switch (m.loss) {
    case 'ce':
      return { impl };
    case 'focus':
      return {
        alpha: m.alpha ?? o.alpha,
        beta: m.beta ?? o.beta,
        rule: m.rule ?? o.rule,
        temperature: m.temperature ?? o.warmTemperature ?? FOCUS_DEFAULTS.warmTemperature,
        labelSmoothing: m.labelSmoothing ?? o.focusLabelSmoothing ?? FOCUS_DEFAULTS.focusLabelSmoothing,
        impl,
      };
    case 'ls':
      return { labelSmoothing: m.labelSmoothing ?? o.labelSmoothing, impl };
    case 'kd':
      return { temperature: m.temperature ?? o.temperature, kdWeight: m.kdWeight ?? o.kdWeight, impl };
  }
}

/** The trainer's objective for a run: `methodOptions` mapped back onto ObjectiveOptions' fields. */
export function objectiveFor(c: Pick<RunCell, 'method' | 'options'>, base: ObjectiveOptions): ObjectiveOptions {
  const x = c.options;
  const o: ObjectiveOptions = { ...base, impl: x.impl as ObjectiveOptions['impl'] };
  switch (c.method.loss) {
    case 'focus':
      return { ...o, alpha: Number(x.alpha), beta: Number(x.beta), rule: x.rule as ObjectiveOptions['rule'], warmTemperature: Number(x.temperature), focusLabelSmoothing: Number(x.labelSmoothing) };
    case 'ls':
      return { ...o, labelSmoothing: Number(x.labelSmoothing) };
    case 'kd':
      return { ...o, temperature: Number(x.temperature), kdWeight: Number(x.kdWeight) };
    case 'ce':
      return o;
  }
}

function baselineAt(spec: ExperimentSpec, s: Schedule, seed: number, v: number | string | null): BaselineCell {
  const arch = spec.axis?.field === 'baselineArch' && v !== null ? String(v) : spec.baseline.arch;
  const epochs = spec.axis?.field === 'baselineEpochs' && v !== null ? Number(v) : spec.baseline.epochs;
  return baselineCell(s, arch, seed, epochs, spec.baseline.schedule);
}

function axisLabel(spec: ExperimentSpec, v: number | string | null): string {
  if (v === null || !spec.axis) return '';
  return spec.axis.field === 'baselineEpochs' ? `baseline ${v} epoch${v === 1 ? '' : 's'}` : `baseline ${v}`;
}

export function buildPlan(spec: ExperimentSpec, base: TrainOptions): Plan {
  const s = scheduleOf(base);
  const axisValues: (number | string | null)[] = spec.axis ? spec.axis.values : [null];
  const baselines = new Map<string, BaselineCell>();
  const runs: RunCell[] = [];
  const rows = new Map<string, Row>();
  const row = (key: string, init: Omit<Row, 'cells'>) => {
    if (!rows.has(key)) rows.set(key, { ...init, cells: {} });
    return rows.get(key)!;
  };
  // seeds outermost: an interrupted experiment has whole seeds done, which the statistics can use
  for (const seed of spec.seeds) {
    for (const v of axisValues) {
      const b = baselineAt(spec, s, seed, v);
      baselines.set(b.id, b);
      const key = v === null ? 'baseline' : `baseline@${v}`;
      const label = `baseline: ${b.arch}, cross-entropy, ${b.epochs} epoch${b.epochs === 1 ? '' : 's'}${b.schedule === s.schedule ? '' : `, ${b.schedule} lr`}`;
      row(key, { key, method: 'baseline', label, axisValue: v, baseline: true }).cells[seed] = b.id;
    }
    for (const m of spec.methods) {
      const per = usesBaseline(m) ? axisValues : [null];
      for (const v of per) {
        const b = usesBaseline(m) ? baselineAt(spec, s, seed, v) : null;
        const options = methodOptions(m, base.objective);
        // the logit cache only matters to a run next to a baseline
        const { cacheBaseline: _c, ...plain } = s;
        const config = { kind: 'run', arch: spec.arch, seed, loss: m.loss, options, schedule: b ? s : plain, baseline: b?.id ?? null };
        const id = `${m.loss}-${spec.arch}-s${seed}-${configHash(config)}`;
        runs.push({ id, method: m, seed, axisValue: v, baseline: b, options, config });
        const key = v === null ? m.name : `${m.name}@${v}`;
        const label = v === null ? m.label : `${m.label}, ${axisLabel(spec, v)}`;
        row(key, { key, method: m.name, label, axisValue: v, baseline: false }).cells[seed] = id;
      }
    }
  }
  return { spec, schedule: s, baselines: [...baselines.values()], runs, rows: [...rows.values()], comparisons: comparisons(spec, [...rows.values()]) };
}

function comparisons(spec: ExperimentSpec, rows: Row[]): Comparison[] {
  const out: Comparison[] = [];
  const find = (method: string, v: number | string | null) => rows.find((r) => r.method === method && r.axisValue === v) ?? rows.find((r) => r.method === method && r.axisValue === null);
  for (const r of rows) {
    if (r.baseline) continue;
    const b = r.axisValue !== null ? find('baseline', r.axisValue) : spec.axis ? undefined : find('baseline', null);
    if (b) out.push({ row: r.key, ref: b.key, kind: 'baseline' });
    if (spec.control && r.method !== spec.control) {
      const c = find(spec.control, r.axisValue);
      if (c) out.push({ row: r.key, ref: c.key, kind: 'control' });
    }
    for (const name of spec.compare) {
      // (the CE control against a compared method is that comparison the other way round)
      if (name === r.method || name === spec.control || r.method === spec.control) continue;
      const c = find(name, r.axisValue);
      if (c && (c.axisValue === null || c.axisValue === r.axisValue)) out.push({ row: r.key, ref: c.key, kind: 'method' });
    }
  }
  return out;
}

/** A baseline training run that yields one or more baselines (snapshots after some epochs). */
export interface Track {
  id: string;
  arch: string;
  seed: number;
  schedule: ScheduleName;
  /** the epochs it trains */
  epochs: number;
  /** ascending by epochs */
  snapshots: BaselineCell[];
}

/**
 * Group the baselines still to train into tracks. At a constant lr, the baseline stopped
 * after k epochs is the first k epochs of a longer one (the trainer's data order, warm-up
 * and lr depend on the epoch and step, not on the total), so one training to the largest
 * k yields every k as a snapshot; other schedules depend on the total epochs, so each
 * baseline is its own track.
 */
export function tracksFor(todo: BaselineCell[], s: Schedule): Track[] {
  const groups = new Map<string, BaselineCell[]>();
  for (const b of todo) {
    const key = b.schedule === 'constant' ? stableJson({ arch: b.arch, seed: b.seed, s: baselineSchedule(s, b.schedule) }) : b.id;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  return [...groups.values()].map((bs) => {
    bs.sort((a, b) => a.epochs - b.epochs);
    const last = bs[bs.length - 1];
    const config = { kind: 'baseline', arch: last.arch, seed: last.seed, epochs: last.epochs, schedule: baselineSchedule(s, last.schedule) };
    return { id: `baseline-${last.arch}-${last.schedule}-e${last.epochs}-s${last.seed}-${configHash(config)}`, arch: last.arch, seed: last.seed, schedule: last.schedule, epochs: last.epochs, snapshots: bs };
  });
}
