// conv2d against the float64 reference (conv-ref.mjs), for the conv test files: `compare` runs
// forward + backward of L = Σ R·y on the engine and checks y, dL/dx, dL/dw, dL/db;
// `comparePath` also checks, through gpu().onDispatch labels, which kernels ran; `withTuning`
// runs code with convTuning fields overridden and restores them (and the matmul variant) after.
import * as assert from 'uvu/assert';
import { tensor, ops, scope, tuning } from './lib.mjs';
import { rng, size, assertClose } from './ref.mjs';
import { conv2dRef, conv2dGradRef, actOf, actMask } from './conv-ref.mjs';
import { dispatched } from './dispatches.mjs';

/** The labels of the dispatches `fn` issues. */
export const labelsOf = async (fn) => (await dispatched(fn)).labels;

const TOL = { rtol: 2e-4, atol: 2e-4 };

/**
 * Run conv2d forward + backward of L = Σ R·y on the engine and compare y, dL/dx, dL/dw,
 * dL/db with the reference. `opts` are conv2d's options (act included); weights are uniform
 * in ±wscale (a larger scale puts outputs above relu6's 6).
 */
export async function compare(name, xs, ws, { bias = true, seed = 1, wscale = 0.5, ...opts } = {}) {
  const r = rng(seed);
  const x = Float64Array.from(Float32Array.from(r.uniform(size(xs))));
  const w = Float64Array.from(Float32Array.from(r.uniform(size(ws), -wscale, wscale)));
  const b = bias ? Float64Array.from(Float32Array.from(r.uniform(ws[0]))) : null;
  const y = conv2dRef(x, xs, w, ws, b, opts);
  const act = actOf(opts);
  if (act === 'relu6') assert.ok(y.some((v) => v >= 6) && y.some((v) => v > 0 && v < 6), `${name}: relu6 case reaches both sides of 6`);
  const R = Float64Array.from(Float32Array.from(r.uniform(y.length)));
  const tx = tensor(Float32Array.from(x), xs, { requiresGrad: true });
  const tw = tensor(Float32Array.from(w), ws, { requiresGrad: true });
  const tb = b ? tensor(Float32Array.from(b), [ws[0]], { requiresGrad: true }) : null;
  const ys = scope(() => {
    const out = ops.conv2d(tx, tw, tb, opts);
    const tR = tensor(Float32Array.from(R), out.shape);
    return [out, ops.sum(ops.mul(out, tR))];
  });
  const [ty, loss] = ys;
  assert.equal([...ty.shape], [xs[0], ws[0], y.length / (xs[0] * ws[0] * ty.shape[3]), ty.shape[3]], `${name}: output shape`);
  assertClose(await ty.read(), y, { ...TOL, what: `${name}: forward` });
  loss.backward();
  // upstream gradient of the pre-activation: R masked where the activation is flat
  const gy = actMask(R, y, act);
  const ref = conv2dGradRef(gy, x, xs, w, ws, opts);
  // gradients scale with the weights (relu6 cases use larger ones)
  const k = Math.max(1, wscale / 0.5);
  const gtol = { rtol: 2e-4, atol: 5e-4 * k };
  assertClose(await tx.grad.read(), ref.gx, { rtol: TOL.rtol, atol: TOL.atol * k, what: `${name}: d/dx` });
  assertClose(await tw.grad.read(), ref.gw, { ...gtol, what: `${name}: d/dw` });
  if (tb) assertClose(await tb.grad.read(), ref.gb, { ...gtol, what: `${name}: d/db` });
  for (const t of [tx, tw, tb, ty, loss]) t?.dispose();
}

/**
 * Run `compare(...)` and check the dispatch labels: every prefix in `ran` names at least one
 * dispatch, no dispatch starts with a prefix in `not`.
 */
export async function comparePath(ran, not, name, xs, ws, opts) {
  const labels = await labelsOf(() => compare(name, xs, ws, opts));
  for (const p of ran) assert.ok(labels.some((l) => l.startsWith(p)), `${name}: expected a '${p}' dispatch, got ${labels.join(', ')}`);
  for (const p of not) assert.ok(!labels.some((l) => l.startsWith(p)), `${name}: unexpected '${p}' dispatch in ${labels.join(', ')}`);
  return labels;
}

/** Run `fn` with convTuning fields overridden, restoring them (and the matmul variant) after. */
export async function withTuning(over, fn) {
  const saved = JSON.parse(JSON.stringify(tuning.convTuning));
  Object.assign(tuning.convTuning, over);
  try {
    await fn();
  } finally {
    Object.assign(tuning.convTuning, saved);
    tuning.setMatmulVariant(null);
  }
}

