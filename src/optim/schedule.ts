// Learning-rate schedules. Per-epoch schedules (PyTorch's MultiStepLR, CosineAnnealingLR, a
// constant) map an epoch to a rate; step schedules map the step of a stage (counted from 0 at
// its first epoch, so a resumed run continues exactly) to the rate that step trains with. A
// per-epoch schedule becomes a step schedule with `perStep`, and `linearWarmup` composes a
// warm-up over the first steps on top of any step schedule:
//
//   const lrAt = linearWarmup(perStep(multiStep(0.1, [30, 60]), stepsPerEpoch), 300);
//   opt.lr = lrAt(epoch * stepsPerEpoch + k);
//
// The warm-up's length is a number of steps or 'auto' (`warmupSteps`): a fraction of one
// epoch's steps, capped, so that a short run on a small data set is not spent warming up
// (docs/training.md has the rule and its measurements). It depends on the steps per epoch,
// never on the stage's total, so the first k epochs of a constant-lr stage are the same
// whatever the stage's length (the experiment's weak baselines rely on this).

export type Schedule = (epoch: number) => number;
/** The learning rate of step `step` of a stage. */
export type StepSchedule = (step: number) => number;

/** lr · gamma^(number of milestones <= epoch) */
export function multiStep(lr: number, milestones: number[], gamma = 0.1): Schedule {
  const ms = [...milestones].sort((a, b) => a - b);
  return (epoch) => lr * gamma ** ms.filter((m) => m <= epoch).length;
}

/** cosine annealing from lr to etaMin over `total` epochs */
export function cosine(lr: number, total: number, etaMin = 0): Schedule {
  return (epoch) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * Math.min(epoch, total)) / Math.max(1, total)))) / 2;
}

export function constant(lr: number): Schedule {
  return () => lr;
}

export const SCHEDULES = ['multistep', 'cosine', 'constant'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

/**
 * The per-epoch schedule named on the command line (`--schedule`) for a stage of `epochs`
 * epochs. multistep: lr ×gamma (0.1) at each milestone, by default at 50 % and 75 % of the
 * epochs (those that fall inside the stage).
 */
export function namedSchedule(name: ScheduleName, lr: number, epochs: number, o: { milestones?: number[]; gamma?: number } = {}): Schedule {
  if (name === 'cosine') return cosine(lr, epochs);
  if (name === 'constant') return constant(lr);
  const ms = o.milestones ?? [Math.ceil(epochs / 2), Math.ceil((3 * epochs) / 4)].filter((m, i, a) => m > 0 && m < epochs && a.indexOf(m) === i);
  return multiStep(lr, ms, o.gamma ?? 0.1);
}

/** A per-epoch schedule on steps: step t is in epoch ⌊t / stepsPerEpoch⌋. */
export function perStep(schedule: Schedule, stepsPerEpoch: number): StepSchedule {
  const n = Math.max(1, stepsPerEpoch);
  return (step) => schedule(Math.floor(step / n));
}

/** Linear warm-up: step t < `steps` trains with schedule(t)·(t+1)/steps, later steps with schedule(t). */
export function linearWarmup(schedule: StepSchedule, steps: number): StepSchedule {
  return (step) => {
    const lr = schedule(step);
    return step < steps ? (lr * (step + 1)) / steps : lr;
  };
}

/** A warm-up length: steps (0: none), or 'auto' (`autoWarmupSteps`). */
export type WarmupSetting = number | 'auto';

/** The 'auto' warm-up: this fraction of an epoch's steps, at most `cap` steps. */
export const AUTO_WARMUP = { fraction: 1, cap: 300 } as const;

/** The 'auto' warm-up for `stepsPerEpoch` steps an epoch: ⌈fraction · steps⌉, at most the cap. */
export function autoWarmupSteps(stepsPerEpoch: number): number {
  return Math.min(AUTO_WARMUP.cap, Math.ceil(AUTO_WARMUP.fraction * Math.max(0, stepsPerEpoch)));
}

/** The warm-up steps of a stage for a setting (undefined: none) and its steps per epoch. */
export function warmupStepsFor(setting: WarmupSetting | undefined, stepsPerEpoch: number): number {
  if (setting === 'auto') return autoWarmupSteps(stepsPerEpoch);
  return setting ?? 0;
}
