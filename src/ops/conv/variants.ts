// Conv kernel variants, registered on first use: one pipeline per (entry block, compiled-in
// block shape / kernel width / stride), so only the variants a model needs are compiled. The
// template constants are substituted as u32 literals; `APPLY_ACT_FN` becomes ACT_WGSL's
// apply_act (the fused-activation epilogue); ELEM the operands' element type (f32, or f16 for
// mixed precision: src/ops/precision.ts, a name of its own ending in ':f16').

import { registerKernel, instantiate, type Kernel, type ParamBlock, type ParamFields } from '../../gpu/index.js';
import { ACT_WGSL } from '../activation.js';
import { type Elem, withElem, elemSuffix } from '../precision.js';

const cache = new Map<string, Kernel>();

/**
 * The kernel `name`: block(s) `blocks` of `src` (from `file`) with the u32 template constants
 * `consts` (e.g. { BM_VALUE: 8 }) and the parameter block `params`; registered on first use.
 */
export function variant<F extends ParamFields>(
  baseName: string, src: string, file: string, blocks: string[], consts: Record<string, number>, params: ParamBlock<F>, elem: Elem = 'f32',
): Kernel<F> {
  const name = baseName + elemSuffix(elem);
  let k = cache.get(name) as Kernel<F> | undefined;
  if (!k) {
    const subst: Record<string, string> = { APPLY_ACT_FN: ACT_WGSL };
    for (const [key, v] of Object.entries(consts)) subst[key] = `${v}u`;
    k = registerKernel({ name, code: withElem(instantiate(src, blocks, subst), elem), file, params });
    cache.set(name, k as unknown as Kernel);
  }
  return k;
}
