// The time estimate of `focusnet experiment --dry-run`: a short probe of each
// architecture's training throughput on this machine (two epochs of a few batches
// through the ordinary trainer, timed on the second so that shader compilation is not
// counted), and the epochs still to train from each cell's state.
import { hostFiles, join } from '../platform/files.js';
import { train, prepareData, stageTwoName } from '../train/trainer.js';
import type { TrainOptions, EpochRecord } from '../train/trainer.js';
import { SubsetSplit } from '../data/split.js';
import { tracksFor, Plan } from './grid.js';
import { Ledger } from './ledger.js';
import { baselineDone, checkpointEpoch, runDir, runDone, trackDir } from './runner.js';

/** The experiment's files, through the platform seam (Node only). */
const fs = () => hostFiles('experiment.runExperimentCommand');

export const PROBE_STEPS = 8;
/** forward-only work (evaluation, the frozen baseline) per image, relative to a training step */
export const FORWARD_SHARE = 1 / 3;

/** Training images per second of `arch` at the experiment's batch size, measured now. */
export async function probeThroughput(arch: string, base: TrainOptions, prepared: ReturnType<typeof prepareData>): Promise<number> {
  const dir = fs().tempDir('focusnet-probe-');
  try {
    const n = Math.min(prepared.train.n, base.batchSize * PROBE_STEPS);
    const small = { ...prepared, train: new SubsetSplit(prepared.train, n), test: new SubsetSplit(prepared.test, Math.min(prepared.test.n, 16)) };
    await train({ ...base, arch, loss: 'ce', epochs: 2, schedule: 'constant', out: dir, resume: false, baseline: undefined, progress: 'none', log: () => {}, stopAfterEpochs: undefined }, small);
    const lines = fs().readText(join(dir, 'metrics.jsonl')).trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
    return lines[lines.length - 1].images_per_s;
  } finally {
    fs().remove(dir, { recursive: true });
  }
}

export interface CellState {
  id: string;
  what: string;
  seed: number;
  done: number;
  epochs: number;
  finished: boolean;
}

/** Where each baseline and run of the plan stands (finished, epochs checkpointed). */
export function planState(plan: Plan, out: string): CellState[] {
  const ledger = new Ledger(out);
  const states: CellState[] = [];
  for (const b of plan.baselines) {
    const finished = !!baselineDone(ledger, out, b);
    states.push({ id: b.id, what: `baseline ${b.arch} ${b.epochs} ep`, seed: b.seed, done: finished ? b.epochs : 0, epochs: b.epochs, finished });
  }
  for (const c of plan.runs) {
    const finished = !!runDone(ledger, out, c);
    const ck = join(runDir(out, c.id), `checkpoint-${stageTwoName(c.method.loss)}.safetensors`);
    const done = finished ? plan.schedule.epochs : Math.min(plan.schedule.epochs, checkpointEpoch(ck));
    const axis = c.axisValue === null ? '' : ` @${c.axisValue}`;
    states.push({ id: c.id, what: `${c.method.name}${axis}`, seed: c.seed, done, epochs: plan.schedule.epochs, finished });
  }
  return states;
}

/**
 * Seconds still to train, given training throughput per architecture (images/s): the
 * baselines as the runner will train them (one track per group that shares epochs, less
 * what its checkpoint holds), then every run's epochs still to go.
 */
export function estimateSeconds(plan: Plan, out: string, states: CellState[], ips: Map<string, number>, nTrain: number, nTest: number): { seconds: number; epochs: number } {
  const st = new Map(states.map((s) => [s.id, s]));
  let seconds = 0;
  let epochs = 0;
  const epochCost = (arch: string) => (nTrain + nTest * FORWARD_SHARE) / ips.get(arch)!;
  for (const t of tracksFor(plan.baselines.filter((b) => !st.get(b.id)!.finished), plan.schedule)) {
    const left = t.epochs - Math.min(t.epochs, checkpointEpoch(join(trackDir(out, t.id), 'checkpoint-baseline.safetensors')));
    epochs += left;
    seconds += left * epochCost(t.arch);
  }
  for (const c of plan.runs) {
    const s = st.get(c.id)!;
    if (s.finished) continue;
    const left = s.epochs - s.done;
    epochs += left;
    seconds += left * epochCost(plan.spec.arch);
    if (c.baseline) {
      const teacher = (nTrain * FORWARD_SHARE) / ips.get(c.baseline.arch)!;
      seconds += (plan.schedule.cacheBaseline ? 1 : left) * teacher + (nTest * FORWARD_SHARE) / ips.get(c.baseline.arch)!;
    }
  }
  return { seconds, epochs };
}

export function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}
