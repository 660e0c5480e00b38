// The experiment spec: which methods to compare (each an ordinary stage-2 training:
// loss ce | focus | ls | kd with its options), the student architecture, the baseline
// that guides focus and kd (architecture, epochs, lr schedule), the seeds, and the
// preset's own axis (baseline epochs or baseline architecture). A spec is JSON, given
// by --spec FILE or built by a preset (presets.ts); both go through `parseSpec`, whose
// every error is a SpecError (exit status 2) naming the file and the field:
//   spec.json: methods[2].loss: unknown loss 'foo' (known: ce, focus, ls, kd)
import { DataError } from '../data/errors.js';
import { ARCHS } from '../models/registry.js';
import type { LossName } from '../train/objective.js';

/** A bad spec (or preset options): the command line's exit status 2. */
export class SpecError extends DataError {
  constructor(source: string, field: string, message: string) {
    super(source, field ? `${field}: ${message}` : message);
    this.name = 'SpecError';
  }
}

export const SCHEDULES = ['multistep', 'cosine', 'constant'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];
export const RULES = ['positive-logit', 'softmax'] as const;
export const IMPLS = ['fused', 'composed'] as const;
export const AXIS_FIELDS = ['baselineEpochs', 'baselineArch'] as const;
export type AxisField = (typeof AXIS_FIELDS)[number];

/** One compared method: a stage-2 training with this loss and these options. */
export interface MethodSpec {
  /** short name, unique in the spec: [a-z0-9][a-z0-9-]* ("baseline" is the baseline's row) */
  name: string;
  /** what the tables print beside the name */
  label: string;
  loss: LossName;
  /** focus-picking weights and multi-warm rule (loss focus) */
  alpha?: number;
  beta?: number;
  rule?: (typeof RULES)[number];
  /** loss ls: its ε; loss focus: the smoothing of Lcls's target */
  labelSmoothing?: number;
  /** loss kd: the distillation temperature; loss focus: the 'softmax' warm-label rule's T */
  temperature?: number;
  /** loss kd */
  kdWeight?: number;
  /** any loss: the fused kernel or the composed reference (default: --loss-impl) */
  impl?: (typeof IMPLS)[number];
}

export interface BaselineSpec {
  arch: string;
  epochs: number;
  schedule: ScheduleName;
}

export interface AxisSpec {
  field: AxisField;
  values: (number | string)[];
}

/** A spec with every default filled in (what the grid is built from). */
export interface ExperimentSpec {
  name: string;
  description: string;
  arch: string;
  baseline: BaselineSpec;
  seeds: number[];
  methods: MethodSpec[];
  axis: AxisSpec | null;
  /** the CE control: a cross-entropy run with FocusNet's own seed (null: none) */
  control: string | null;
  /** further methods every other method is compared with, seed by seed */
  compare: string[];
}

/** What the command line supplies where the spec is silent. */
export interface SpecDefaults {
  arch: string;
  baselineArch?: string;
  baselineEpochs: number;
  schedule: ScheduleName;
  seeds?: number[];
}

/**
 * The options each loss takes (anything else on a method is an error): focus takes every
 * option of losses.focusPicking, under its names there.
 */
const LOSS_OPTIONS: Record<LossName, readonly string[]> = {
  ce: ['impl'],
  focus: ['alpha', 'beta', 'rule', 'temperature', 'labelSmoothing', 'impl'],
  ls: ['labelSmoothing', 'impl'],
  kd: ['temperature', 'kdWeight', 'impl'],
};
/** The stage-2 losses, in the order messages list them (every one of the trainer's LOSSES). */
const LOSS_NAMES = Object.keys(LOSS_OPTIONS) as LossName[];
const METHOD_KEYS = ['name', 'label', 'loss', 'alpha', 'beta', 'rule', 'labelSmoothing', 'temperature', 'kdWeight', 'impl'];
const SPEC_KEYS = ['name', 'description', 'arch', 'baseline', 'seeds', 'methods', 'axis', 'control', 'compare'];
const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
export const DEFAULT_SEEDS = [1, 2, 3, 4, 5];

type Json = unknown;

class Reader {
  constructor(readonly source: string) {}
  fail(field: string, message: string): never {
    throw new SpecError(this.source, field, message);
  }
  kind(v: Json): string {
    return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${JSON.stringify(v)}`;
  }
  object(v: Json, field: string, keys: readonly string[]): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, `expected an object, got ${this.kind(v)}`);
    const o = v as Record<string, Json>;
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(field ? `${field}.${k}` : k, `unknown field (known: ${keys.join(', ')})`);
    return o;
  }
  string(v: Json, field: string): string {
    if (typeof v !== 'string' || !v) this.fail(field, `expected a non-empty string, got ${this.kind(v)}`);
    return v;
  }
  oneOf<T extends string>(v: Json, field: string, known: readonly T[], what: string): T {
    const s = this.string(v, field);
    const m = known.find((k) => k.toLowerCase() === s.toLowerCase());
    if (!m) this.fail(field, `unknown ${what} '${s}' (known: ${known.join(', ')})`);
    return m;
  }
  number(v: Json, field: string, lo: number, hi: number, what = ''): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `expected a number, got ${this.kind(v)}`);
    if (v < lo || v > hi) this.fail(field, `${v} is out of range: expected ${what || `a number in [${lo}, ${hi}]`}`);
    return v;
  }
  integer(v: Json, field: string, lo: number, what: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(field, `expected an integer, got ${this.kind(v)}`);
    if (v < lo) this.fail(field, `${v}: expected ${what}`);
    return v;
  }
  array(v: Json, field: string, nonEmpty = true): Json[] {
    if (!Array.isArray(v)) this.fail(field, `expected an array, got ${this.kind(v)}`);
    if (nonEmpty && v.length === 0) this.fail(field, 'must not be empty');
    return v;
  }
}

/** Check seeds: integers >= 0, no repeats. `field` names them in messages. */
export function checkSeeds(seeds: readonly unknown[], source: string, field: string): number[] {
  const r = new Reader(source);
  if (seeds.length === 0) r.fail(field, 'must list at least one seed');
  const out = seeds.map((s, i) => r.integer(s, `${field}[${i}]`, 0, 'a seed >= 0'));
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup !== undefined) r.fail(field, `seed ${dup} is listed twice`);
  return out;
}

function parseMethod(r: Reader, v: Json, field: string): MethodSpec {
  const o = r.object(v, field, METHOD_KEYS);
  if (o.name === undefined) r.fail(`${field}.name`, 'is required');
  const name = r.string(o.name, `${field}.name`);
  if (!NAME_RE.test(name)) r.fail(`${field}.name`, `'${name}': use lower-case letters, digits and '-' (it names files and table rows)`);
  if (name === 'baseline') r.fail(`${field}.name`, `'baseline' is the baseline's own row; give the method another name`);
  if (o.loss === undefined) r.fail(`${field}.loss`, `is required (one of ${LOSS_NAMES.join(', ')})`);
  const loss = r.oneOf(o.loss, `${field}.loss`, LOSS_NAMES, 'loss');
  for (const k of METHOD_KEYS.slice(3)) {
    if (o[k] !== undefined && !LOSS_OPTIONS[loss].includes(k)) {
      const takers = (Object.keys(LOSS_OPTIONS) as LossName[]).filter((l) => LOSS_OPTIONS[l].includes(k));
      r.fail(`${field}.${k}`, `applies to loss ${takers.join(', ')}, not ${loss}`);
    }
  }
  const m: MethodSpec = { name, label: o.label === undefined ? defaultLabel(loss) : r.string(o.label, `${field}.label`), loss };
  if (o.alpha !== undefined) m.alpha = r.number(o.alpha, `${field}.alpha`, 0, 1e6, 'a weight >= 0');
  if (o.beta !== undefined) m.beta = r.number(o.beta, `${field}.beta`, 0, 1e6, 'a weight >= 0');
  if (o.rule !== undefined) m.rule = r.oneOf(o.rule, `${field}.rule`, RULES, 'rule');
  if (o.labelSmoothing !== undefined) {
    m.labelSmoothing = r.number(o.labelSmoothing, `${field}.labelSmoothing`, 0, 1);
    if (m.labelSmoothing >= 1) r.fail(`${field}.labelSmoothing`, `${m.labelSmoothing}: expected a number in [0, 1)`);
  }
  if (o.temperature !== undefined) {
    m.temperature = r.number(o.temperature, `${field}.temperature`, 0, 1e6);
    if (m.temperature <= 0) r.fail(`${field}.temperature`, `${m.temperature}: expected a number > 0`);
  }
  if (o.kdWeight !== undefined) m.kdWeight = r.number(o.kdWeight, `${field}.kdWeight`, 0, 1);
  if (o.impl !== undefined) m.impl = r.oneOf(o.impl, `${field}.impl`, IMPLS, 'implementation');
  return m;
}

function defaultLabel(loss: LossName): string {
  return { ce: 'cross-entropy', focus: 'FocusNet', ls: 'label smoothing', kd: 'distillation (KD)' }[loss];
}

/**
 * Validate a spec (parsed JSON) and fill in its defaults. `source` names it in messages
 * (the file, or "--preset methods"); `d` holds what the command line says.
 */
export function parseSpec(v: Json, source: string, d: SpecDefaults): ExperimentSpec {
  const r = new Reader(source);
  const o = r.object(v, '', SPEC_KEYS);
  const name = o.name === undefined ? 'experiment' : r.string(o.name, 'name');
  if (!NAME_RE.test(name)) r.fail('name', `'${name}': use lower-case letters, digits and '-'`);
  const arch = o.arch === undefined ? d.arch : r.oneOf(o.arch, 'arch', ARCHS, 'architecture');
  const bo = o.baseline === undefined ? {} : r.object(o.baseline, 'baseline', ['arch', 'epochs', 'schedule']);
  const baseline: BaselineSpec = {
    arch: bo.arch === undefined ? (d.baselineArch ?? arch) : r.oneOf(bo.arch, 'baseline.arch', ARCHS, 'architecture'),
    epochs: bo.epochs === undefined ? d.baselineEpochs : r.integer(bo.epochs, 'baseline.epochs', 1, 'a positive number of epochs'),
    schedule: bo.schedule === undefined ? d.schedule : r.oneOf(bo.schedule, 'baseline.schedule', SCHEDULES, 'schedule'),
  };
  const seeds = d.seeds ?? (o.seeds === undefined ? DEFAULT_SEEDS : checkSeeds(r.array(o.seeds, 'seeds'), source, 'seeds'));
  if (o.methods === undefined) r.fail('methods', 'is required: a list of { "name", "loss", ... }');
  const methods = r.array(o.methods, 'methods').map((m, i) => parseMethod(r, m, `methods[${i}]`));
  methods.forEach((m, i) => {
    const j = methods.findIndex((x) => x.name === m.name);
    if (j !== i) r.fail(`methods[${i}].name`, `'${m.name}' is also the name of methods[${j}]`);
  });
  const known = (n: string, field: string) => {
    if (!methods.some((m) => m.name === n)) r.fail(field, `no method is named '${n}' (methods: ${methods.map((m) => m.name).join(', ')})`);
    return n;
  };
  let control: string | null;
  if (o.control === undefined) control = methods.find((m) => m.loss === 'ce')?.name ?? null;
  else if (o.control === null) control = null;
  else {
    control = known(r.string(o.control, 'control'), 'control');
    const c = methods.find((m) => m.name === control)!;
    if (c.loss !== 'ce') r.fail('control', `'${control}' has loss ${c.loss}; the CE control is a cross-entropy run (loss ce)`);
  }
  const compare = o.compare === undefined ? [] : r.array(o.compare, 'compare', false).map((c, i) => known(r.string(c, `compare[${i}]`), `compare[${i}]`));
  let axis: AxisSpec | null = null;
  if (o.axis !== undefined && o.axis !== null) {
    const a = r.object(o.axis, 'axis', ['field', 'values']);
    const field = r.oneOf(a.field, 'axis.field', AXIS_FIELDS, 'axis field');
    const values = r.array(a.values, 'axis.values').map((x, i) =>
      field === 'baselineEpochs' ? r.integer(x, `axis.values[${i}]`, 1, 'a positive number of epochs') : r.oneOf(x, `axis.values[${i}]`, ARCHS, 'architecture'),
    );
    const dup = values.find((x, i) => values.indexOf(x) !== i);
    if (dup !== undefined) r.fail('axis.values', `${JSON.stringify(dup)} is listed twice`);
    axis = { field, values };
  }
  const description = o.description === undefined ? '' : r.string(o.description, 'description');
  return { name, description, arch, baseline, seeds, methods, axis, control, compare };
}

/** Whether a method trains next to the frozen baseline (and so depends on it). */
export function usesBaseline(m: MethodSpec): boolean {
  return m.loss === 'focus' || m.loss === 'kd';
}
