// Conv kernel variants, registered on first use: one pipeline per (entry block, compiled-in
// block shape / kernel width / stride), so only the variants a model needs are compiled. The
// template constants are substituted as u32 literals; `APPLY_ACT_FN` becomes ACT_WGSL's
// apply_act (the fused-activation epilogue).

import { registerKernel, instantiate, type Kernel, type ParamBlock, type ParamFields } from '../../gpu/index.js';
import { ACT_WGSL } from '../activation.js';

const cache = new Map<string, Kernel>();

/**
 * The kernel `name`: block(s) `blocks` of `src` (from `file`) with the u32 template constants
 * `consts` (e.g. { BM_VALUE: 8 }) and the parameter block `params`; registered on first use.
 */
export function variant<F extends ParamFields>(name: string, src: string, file: string, blocks: string[], consts: Record<string, number>, params: ParamBlock<F>): Kernel<F> {
  let k = cache.get(name) as Kernel<F> | undefined;
  if (!k) {
    const subst: Record<string, string> = { APPLY_ACT_FN: ACT_WGSL };
    for (const [key, v] of Object.entries(consts)) subst[key] = `${v}u`;
    k = registerKernel({ name, code: instantiate(src, blocks, subst), file, params });
    cache.set(name, k as unknown as Kernel);
  }
  return k;
}
