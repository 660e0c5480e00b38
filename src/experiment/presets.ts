// The presets: the paper's comparisons as specs, at whatever scale the command line's
// schedule flags set. Each builds the same JSON a --spec file holds and goes through
// the same validation (parseSpec).
//   methods        Tables 2 and 7: baseline, CE control, FocusNet, label smoothing, KD
//   ablation       Table 10: CE, Lcls, Lcls + Ratt, Lcls + Rent, the full loss
//   cross-arch     Table 5: a baseline of another architecture guides FocusNet; KD on the same pair
//   weak-baseline  Table 9 / Figure 4: baselines stopped after 1, 2, … epochs at a constant lr
//   rules          the paper's positive-logit warm-label rule against the authors' code's softmax rule
import { ArgError } from '../util/flags.js';
import { ExperimentSpec, SpecDefaults, parseSpec } from './spec.js';

export const PRESETS = ['methods', 'ablation', 'cross-arch', 'weak-baseline', 'rules'] as const;
export type PresetName = (typeof PRESETS)[number];

const CONTROL = { name: 'ce-control', loss: 'ce', label: "cross-entropy, FocusNet's own seed (CE control)" };

/** The preset's spec, as JSON (before defaults). */
function presetJson(name: PresetName, d: SpecDefaults): Record<string, unknown> {
  switch (name) {
    case 'methods':
      return {
        name,
        description: 'FocusNet against its baseline, a CE control, label smoothing and distillation (Tables 2 and 7)',
        methods: [
          CONTROL,
          { name: 'focusnet', loss: 'focus', label: 'FocusNet' },
          { name: 'label-smoothing', loss: 'ls', labelSmoothing: 0.1, label: 'label smoothing ε = 0.1' },
          { name: 'kd', loss: 'kd', temperature: 4, kdWeight: 0.5, label: 'distillation from the baseline (T = 4, weight 0.5)' },
        ],
      };
    case 'ablation':
      return {
        name,
        description: "the focus-picking loss's terms one by one (Table 10)",
        methods: [
          CONTROL,
          { name: 'lcls', loss: 'focus', alpha: 0, beta: 0, label: 'Lcls alone (α = 0, β = 0)' },
          { name: 'lcls-ratt', loss: 'focus', alpha: 1, beta: 0, label: 'Lcls + Ratt (β = 0)' },
          { name: 'lcls-rent', loss: 'focus', alpha: 0, beta: 1, label: 'Lcls + Rent (α = 0)' },
          { name: 'focusnet', loss: 'focus', alpha: 1, beta: 1, label: 'Lcls + Ratt + Rent, the full loss' },
        ],
      };
    case 'cross-arch':
      return {
        name,
        description: `a ${d.baselineArch} baseline guides a ${d.arch} (Table 5)`,
        methods: [
          { ...CONTROL, label: `${d.arch} alone (cross-entropy, FocusNet's own seed)` },
          { name: 'kd', loss: 'kd', temperature: 4, kdWeight: 0.5, label: `distillation from the ${d.baselineArch} (T = 4, weight 0.5)` },
          { name: 'focusnet', loss: 'focus', label: `FocusNet guided by the ${d.baselineArch}` },
        ],
      };
    case 'weak-baseline': {
      const values = Array.from({ length: d.baselineEpochs }, (_, i) => i + 1);
      return {
        name,
        description: 'baselines stopped after 1, 2, … epochs at a constant lr, each guiding FocusNet (Table 9, Figure 4)',
        baseline: { schedule: 'constant' },
        axis: { field: 'baselineEpochs', values },
        methods: [
          { ...CONTROL, label: 'plain cross-entropy, full schedule (the plain baseline level)' },
          { name: 'focusnet', loss: 'focus', label: 'FocusNet guided by the weak baseline' },
        ],
      };
    }
    case 'rules':
      return {
        name,
        description: "the multi-warm label rule: the paper's positive logit against the authors' code's softmax(zb / 2) > 1/N",
        methods: [
          CONTROL,
          { name: 'focusnet', loss: 'focus', rule: 'positive-logit', label: 'FocusNet, positive-logit rule (paper)' },
          { name: 'focusnet-softmax', loss: 'focus', rule: 'softmax', label: 'FocusNet, softmax rule (authors’ code)' },
        ],
        compare: ['focusnet'],
      };
  }
}

/** The preset as a validated spec; `source` names it in messages ("--preset cross-arch"). */
export function presetSpec(name: string, d: SpecDefaults): ExperimentSpec {
  const source = `--preset ${name}`;
  const p = PRESETS.find((x) => x === name.toLowerCase());
  if (!p) throw new ArgError(`focusnet experiment: --preset ${name}: unknown preset (known: ${PRESETS.join(', ')})`);
  if (p === 'cross-arch') {
    if (!d.baselineArch) throw new ArgError(`focusnet experiment: --preset cross-arch needs --baseline-arch: the architecture of the baseline that guides the --arch ${d.arch} (e.g. resnet18)`);
    if (d.baselineArch === d.arch) throw new ArgError(`focusnet experiment: --preset cross-arch compares two architectures, but --baseline-arch is the same as --arch (${d.arch})`);
  }
  return parseSpec(presetJson(p, d), source, d);
}
