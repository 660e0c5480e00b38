// The architectures `cam` draws maps for, and the check that a model's feature/classifier
// split (the registry's, src/models/registry.ts) reproduces its forward pass: a model whose
// structure differs from what the split expects fails loudly instead of giving a wrong map.
import { Tensor } from '../tensor/index.js';
import { Module } from '../nn/module.js';
import { noGrad } from '../autograd/tape.js';
import { FocusnetError } from '../errors.js';
import { CAM_ARCHS, archSpec, findArch, ArchSpec, FeatureSplit } from '../models/registry.js';
import { VizInputError } from './errors.js';

export { splitModel } from '../models/registry.js';

/** The architectures with a feature/classifier split (names as the registry prints them). */
export const ARCHS = CAM_ARCHS;

/** The registry entry of `arch` (any accepted spelling) for class activation maps; VizInputError or ArchError naming `flag`. */
export function checkCamArch(arch: string | undefined, flag = '--arch'): ArchSpec {
  if (!arch) throw new VizInputError(`${flag} is required (one of ${CAM_ARCHS.join(', ')})`);
  const known = findArch(arch);
  if (known && !known.split) throw new VizInputError(`${flag} ${arch}: an MLP has no convolutional feature maps to draw activation maps from (one of ${CAM_ARCHS.join(', ')})`);
  return archSpec(arch, flag, CAM_ARCHS);
}

/** The registry entry of `arch` for predictions (any architecture); VizInputError or ArchError naming `flag`. */
export function checkArch(arch: string | undefined, flag = '--arch'): ArchSpec {
  if (!arch) throw new VizInputError(`${flag} is required (the checkpoint records no architecture)`);
  return archSpec(arch, flag);
}

/** forward(x) and head(features(x)) must agree, or the split is wrong for this model. */
export async function verifySplit(model: Module, split: FeatureSplit, x: Tensor, what: string): Promise<Float32Array> {
  const [a, b] = noGrad(() => {
    const z = model.forward(x);
    const f = split.features(x);
    const z2 = split.head(f);
    f.dispose();
    return [z, z2];
  });
  const za = (await a.read()) as Float32Array;
  const zb = (await b.read()) as Float32Array;
  a.dispose();
  b.dispose();
  let scale = 1e-3;
  for (const v of za) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < za.length; i++) {
    if (!(Math.abs(za[i] - zb[i]) <= 1e-3 * scale)) {
      throw new FocusnetError(`focusnet: the feature/classifier split of ${what} does not reproduce its forward pass (logit ${i}: ${za[i]} vs ${zb[i]})`);
    }
  }
  return za;
}
