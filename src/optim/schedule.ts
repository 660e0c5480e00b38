// Learning-rate schedules, evaluated per epoch (PyTorch's MultiStepLR and CosineAnnealingLR).

export type Schedule = (epoch: number) => number;

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
