// The experiment folder's two records:
//   results.jsonl    one line per finished training (a baseline or a run): its id,
//                    configuration, seed, top-1, top-5 and seconds. Only ever appended
//                    to; a line cut short by a kill is skipped when read (and the next
//                    line starts on a fresh line), a later line for the same id wins.
//   experiment.json  the experiments (presets or specs) run into this folder, each with
//                    its spec, schedule, rows and comparisons, so that summary.md and
//                    index.html can be rebuilt from the folder alone. Written atomically.
import { hostFiles, join } from '../platform/files.js';
import { DataError } from '../data/errors.js';
import { ioReason } from '../data/node/files.js';
import { writeFileAtomic } from '../train/safetensors.js';
import type { Comparison, Row, Schedule } from './grid.js';
import type { ExperimentSpec } from './spec.js';

/** The experiment's files, through the platform seam (Node only). */
const fs = () => hostFiles('experiment.runExperimentCommand');

export interface ResultLine {
  id: string;
  kind: 'baseline' | 'run';
  seed: number;
  /** percent; null (NaN when written) for a run that diverged */
  top1: number;
  top5: number;
  seconds: number;
  diverged?: boolean;
  config: Record<string, unknown>;
  /** a baseline's weights (relative to the experiment folder) */
  file?: string;
  finished: string;
  [k: string]: unknown;
}

export const RESULTS = 'results.jsonl';
export const REGISTRY = 'experiment.json';

export class Ledger {
  readonly path: string;
  private readonly lines = new Map<string, ResultLine>();
  /** lines that could not be read (cut short by a kill) */
  readonly skipped: number;

  constructor(readonly out: string) {
    this.path = join(out, RESULTS);
    let skipped = 0;
    if (fs().exists(this.path)) {
      let text: string;
      try {
        text = fs().readText(this.path);
      } catch (e) {
        throw new DataError(this.path, `cannot read (${ioReason(e)})`);
      }
      for (const l of text.split('\n')) {
        if (!l.trim()) continue;
        try {
          const r = JSON.parse(l) as ResultLine;
          if (typeof r.id === 'string' && ((Number.isFinite(r.top1) && Number.isFinite(r.top5)) || r.diverged === true)) this.lines.set(r.id, r);
          else skipped++;
        } catch {
          skipped++;
        }
      }
    }
    this.skipped = skipped;
  }

  get(id: string): ResultLine | undefined {
    return this.lines.get(id);
  }

  all(): ResultLine[] {
    return [...this.lines.values()];
  }

  append(r: ResultLine): void {
    let sep = '';
    if (fs().exists(this.path)) {
      const text = fs().readText(this.path);
      if (text.length && !text.endsWith('\n')) sep = '\n';
    }
    fs().append(this.path, sep + JSON.stringify(r) + '\n');
    this.lines.set(r.id, r);
  }
}

/** One experiment as recorded in experiment.json. */
export interface StoredExperiment {
  spec: ExperimentSpec;
  schedule: Schedule;
  rows: Row[];
  comparisons: Comparison[];
  /** images in the splits used, for the tables' heading */
  trainImages: number;
  testImages: number;
  dataFormat: string;
  updated: string;
}

export interface Registry {
  format: 'focusnet-experiment';
  experiments: Record<string, StoredExperiment>;
}

export function readRegistry(out: string): Registry {
  const path = join(out, REGISTRY);
  if (!fs().exists(path)) return { format: 'focusnet-experiment', experiments: {} };
  let v: Registry;
  try {
    v = JSON.parse(fs().readText(path)) as Registry;
  } catch (e) {
    throw new DataError(path, `is not valid JSON (${e instanceof SyntaxError ? e.message : ioReason(e)}); move it away to start the record afresh`);
  }
  if (v?.format !== 'focusnet-experiment' || typeof v.experiments !== 'object' || v.experiments === null) {
    throw new DataError(path, `is not a focusnet experiment record (no "format": "focusnet-experiment"); use another --out`);
  }
  return v;
}

export function writeRegistry(out: string, r: Registry): void {
  writeFileAtomic(join(out, REGISTRY), JSON.stringify(r, null, 1) + '\n');
}
