// gradcheck(fn, inputs, { eps, atol, rtol }): the autograd gradient of a scalar function against
// central finite differences of the same function, as torch.autograd.gradcheck does (for a scalar
// output). The engine computes in f32, so the defaults suit f32 (torch's suit float64): eps 1e-2,
// atol 1e-3, rtol 1e-2. (A central difference's rounding error is about |f|·2⁻²⁴ / eps: with f32
// and eps 1e-3 it reaches 1e-3 for a loss of 30, while its truncation error, eps²·f'''/6, stays
// near 1e-5 at eps 1e-2 for smooth functions. Near a kink (ReLU at 0) use a smaller eps.) Only f32 inputs with requiresGrad are checked; the inputs themselves and
// their .grad are left as they were (the check runs on copies).

import { OpError } from '../errors.js';
import { Tensor, tensor, scope, shapeStr } from '../tensor/index.js';
import { noGrad } from './tape.js';

export interface GradcheckOptions {
  /** finite-difference step [1e-2] */
  eps?: number;
  /** absolute tolerance [1e-3] */
  atol?: number;
  /** relative tolerance, of the finite-difference value [1e-2] */
  rtol?: number;
  /** throw a GradcheckError naming the input and element (default), or return false */
  raiseException?: boolean;
}

/** A gradient that disagrees with its finite differences: names the input and the element. */
export class GradcheckError extends OpError {
  constructor(
    readonly input: number,
    readonly element: number,
    readonly analytic: number,
    readonly numeric: number,
    detail: string,
  ) {
    super('gradcheck', detail);
    this.name = 'GradcheckError';
  }
}

/** True when every checked gradient matches its central finite differences (see the header). */
export async function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): Promise<boolean> {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor) || t.disposed) throw new OpError('gradcheck', `input ${i} must be a live Tensor`);
  });
  const checked = inputs.map((t) => t.dtype === 'f32' && t.requiresGrad);
  if (!checked.some(Boolean)) throw new OpError('gradcheck', 'no input is an f32 tensor with requiresGrad: nothing to check');
  const host = await Promise.all(inputs.map((t) => t.read()));
  const copies = host.map((h, i) => tensor(h, inputs[i].shape, { dtype: inputs[i].dtype, requiresGrad: checked[i] }));
  try {
    // analytic: one backward through fn on the copies
    const y = scope(() => fn(...copies));
    if (!(y instanceof Tensor) || y.size !== 1) {
      const shape = y instanceof Tensor ? shapeStr(y.shape) : typeof y;
      y?.dispose?.();
      throw new OpError('gradcheck', `fn must return a single-element tensor, got ${shape}`);
    }
    y.backward();
    y.dispose();
    const analytic = await Promise.all(copies.map((c, i) => (checked[i] && c.grad ? c.grad.read() : Promise.resolve(null))));
    // numeric: fn at x ± eps·e_k for every checked element, all evaluated before one readback
    const values: Tensor[] = [];
    noGrad(() => {
      for (let i = 0; i < inputs.length; i++) {
        if (!checked[i]) continue;
        const base = host[i] as Float32Array;
        for (let k = 0; k < base.length; k++) {
          for (const s of [1, -1]) {
            const v = Float32Array.from(base);
            v[k] += s * eps;
            const moved = tensor(v, inputs[i].shape);
            const args = copies.map((c, j) => (j === i ? moved : c));
            values.push(scope(() => fn(...args)));
            moved.dispose();
          }
        }
      }
    });
    const read = await Promise.all(values.map((v) => v.read()));
    for (const v of values) v.dispose();
    let at = 0;
    for (let i = 0; i < inputs.length; i++) {
      if (!checked[i]) continue;
      const n = host[i].length;
      for (let k = 0; k < n; k++) {
        const base = host[i] as Float32Array;
        // the step actually taken in f32
        const up = Math.fround(base[k] + eps) - base[k];
        const down = base[k] - Math.fround(base[k] - eps);
        const numeric = (read[at][0] - read[at + 1][0]) / (up + down);
        at += 2;
        const a = analytic[i] ? analytic[i]![k] : 0;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          if (opts.raiseException === false) return false;
          throw new GradcheckError(i, k, a, numeric,
            `input ${i} ${shapeStr(inputs[i].shape)}, element ${k}: autograd gives ${a}, central finite differences ${numeric} (eps ${eps}, atol ${atol}, rtol ${rtol})`);
        }
      }
    }
    return true;
  } finally {
    for (const c of copies) c.dispose();
  }
}
