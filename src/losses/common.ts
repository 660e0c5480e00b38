// Shared machinery of the losses: argument checks, the launcher of the fused row losses (CE,
// KD, focus: fusedRowLoss), the batch-mean reduction of per-row losses (two-level,
// atomic-free, kernels/losses.wgsl FINISH), the backward of a fused loss (scale the saved
// dL/dz by the upstream gradient), and label validation.
//
// Labels live on the GPU, so checking them on the host would need a readback inside the
// training step. Instead the kernels check them: the last reduction level scans the labels
// (B reads, one invocation), and on the first one outside [0, N) it makes the loss NaN and
// records [row, label, N, op] in a sticky status buffer. The status is read back, and a
// clear OpError thrown, the next time a loss tensor is read (`read()` / `item()`), or by
// `checkLabels()` (for trainers that accumulate losses on the GPU and read them later).

import src from '../../kernels/losses.wgsl';
import vecSrc from '../../kernels/vec_width.wgsl';
import { registerKernel } from '../gpu/index.js';
import { instantiate } from '../gpu/index.js';
import { Tensor, Storage, keep } from '../tensor/index.js';
import { record, isUnitSeed, needsGrad } from '../autograd/tape.js';
import { checkF32, checkI32, sameShape, launch1d, out, OpError, shapeStr, gpu } from '../ops/common.js';

const FILE = 'kernels/losses.wgsl';
for (const b of ['CE', 'KD']) for (const w of [1, 2, 4]) registerKernel(`losses:${b.toLowerCase()}:w${w}`, withVecWidth(instantiate(src, ['ROW', b]), w), FILE);
registerKernel('losses:warm', instantiate(src, 'WARM'), FILE);
for (const b of ['FINISH', 'CHECK']) registerKernel(`losses:${b.toLowerCase()}`, instantiate(src, [b, 'LABELS']), FILE);
registerKernel('losses:scale', instantiate(src, 'SCALE', { SV: 'f32' }), FILE);
registerKernel('losses:scale4', instantiate(src, 'SCALE', { SV: 'vec4<f32>' }), FILE);

/** Opcodes stored in the status buffer, so the error can name the loss that saw the label. */
const OPS = ['crossEntropy', 'focusPicking', 'multiWarmLabel', 'distillation'] as const;
export type LossOp = (typeof OPS)[number];

// ---- persistent small buffers -----------------------------------------------------------------

let statusT: Tensor | null = null;
let pending = false;

function statusTensor(): Tensor {
  if (!statusT || statusT.disposed) {
    statusT = keep(new Tensor(Storage.alloc(32), [8], 'i32'));
    gpu().write(statusT.slice('losses'), new Int32Array(8));
  }
  return statusT;
}


/**
 * Throw an OpError if a loss launched since the last check saw a label outside [0, N).
 * Reads back a 32-byte status buffer (waits for the GPU); clears the status.
 */
export async function checkLabels(): Promise<void> {
  if (!pending || !statusT || statusT.disposed) return;
  pending = false;
  const s = (await statusT.read()) as Int32Array;
  if (s[0] === 0) return;
  gpu().write(statusT.slice('losses'), new Int32Array(8));
  const op = OPS[s[4]] ?? 'loss';
  throw new OpError(
    op,
    `argument 'labels': labels[${s[1]}] = ${s[2]} is out of range for ${s[3]} classes (labels must be class indices in [0, ${s[3]}); ` +
      `the logits' last dimension is the number of classes)`,
  );
}

/** A scalar loss whose `read()` / `item()` also report bad labels found by the kernels. */
export class LossTensor extends Tensor {
  override async read(): Promise<Float32Array | Int32Array> {
    const v = await super.read();
    await checkLabels();
    return v;
  }
}

/** Give a scalar loss tensor the label check on read (no data moves). */
export function asLoss(t: Tensor): Tensor {
  Object.setPrototypeOf(t, LossTensor.prototype);
  return t;
}

// ---- argument checks --------------------------------------------------------------------------

/** z f32 [B, N] with B, N >= 1; returns [B, N]. */
export function checkLogits(t: unknown, op: string, arg: string): [number, number] {
  const x = checkF32(t, op, arg);
  if (x.rank !== 2) throw new OpError(op, `argument '${arg}' must be 2-D [batch, classes], got ${shapeStr(x.shape)}`);
  const [b, n] = x.shape;
  if (b === 0 || n === 0) throw new OpError(op, `argument '${arg}' is empty: ${shapeStr(x.shape)}`);
  return [b, n];
}

export function checkSame(a: Tensor, b: unknown, op: string, argA: string, argB: string): void {
  const y = checkF32(b, op, argB);
  if (!sameShape(y.shape, a.shape)) {
    throw new OpError(op, `argument '${argB}' ${shapeStr(y.shape)} must have the shape of '${argA}' ${shapeStr(a.shape)}`);
  }
}

export function checkLabelTensor(t: unknown, op: string, batch: number): Tensor {
  const l = checkI32(t, op, 'labels');
  if (l.rank !== 1 || l.shape[0] !== batch) {
    throw new OpError(op, `argument 'labels' must be i32 [${batch}] (one class index per row of the logits), got ${shapeStr(l.shape)}`);
  }
  return l;
}

export function checkNumber(v: unknown, op: string, name: string, ok: (x: number) => boolean, want: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new OpError(op, `option '${name}' must be ${want}, got ${String(v)}`);
  return v;
}

export function checkChoice<T extends string>(v: unknown, op: string, name: string, choices: readonly T[]): T {
  if (!choices.includes(v as T)) throw new OpError(op, `option '${name}' must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

// ---- reductions, validation, backward ------------------------------------------------------------

/** Widest load (vec4, vec2, f32) that divides the row length. */
function vecWidth(n: number): 1 | 2 | 4 {
  return n % 4 === 0 ? 4 : n % 2 === 0 ? 2 : 1;
}

const CHUNK = 256;

/**
 * mean over rows of rowLoss [B] → scalar, two levels when B > CHUNK; the last level checks
 * `labels` (if given) against `classes`.
 */
function batchMean(rowLoss: Tensor, labels: Tensor | null, classes: number, op: LossOp): Tensor {
  const b = rowLoss.size;
  // without labels, the device's placeholder fills the binding (P.nl = 0: never read)
  const lab = labels ? labels.slice(op) : gpu().placeholder();
  const st = statusTensor();
  const opcode = OPS.indexOf(op);
  let srcT = rowLoss;
  let n = b;
  let scale = 1 / b;
  let partial: Tensor | null = null;
  if (b > CHUNK) {
    const k = Math.ceil(b / CHUNK);
    partial = out([k]);
    launch1d(k, {
      module: 'losses:finish', label: `${op}:sum_rows`,
      bindings: [rowLoss.slice(op), partial.slice(op), lab, st.slice(op)],
      u: [k, b, CHUNK, 0], f: [opcode, classes, 0, 1],
    }, 64);
    srcT = partial;
    n = k;
  }
  const y = new LossTensor(Storage.alloc(4), [], 'f32');
  launch1d(1, {
    module: 'losses:finish', label: `${op}:mean`,
    bindings: [srcT.slice(op), y.slice(op), lab, st.slice(op)],
    u: [1, n, Math.max(n, 1), labels ? labels.size : 0], f: [opcode, classes, 0, scale],
  }, 64);
  if (labels) pending = true;
  partial?.dispose();
  return y;
}

/** Validate labels against `classes` on the GPU (composed losses); reported like batchMean. */
export function validateLabels(labels: Tensor, classes: number, op: LossOp): void {
  const st = statusTensor();
  gpu().dispatch({
    module: 'losses:check', label: `${op}:check_labels`,
    bindings: [labels.slice(op), st.slice(op)],
    u: [0, 0, 0, labels.size], f: [OPS.indexOf(op), classes, 0, 0],
    workgroups: [1],
  });
  pending = true;
}

/**
 * The backward of a fused loss whose dL/dz the forward saved: scale it by the upstream
 * gradient g[0] in place (the node owns the only reference) and hand the buffer on; nothing to
 * scale when g is backward()'s own seed of 1 (`loss.backward()`).
 */
function scaleBySeed(saved: Tensor, g: Tensor, op: string): Tensor {
  if (!isUnitSeed(g)) {
    const v4 = saved.size % 4 === 0;
    const n = v4 ? saved.size / 4 : saved.size;
    launch1d(n, {
      module: v4 ? 'losses:scale4' : 'losses:scale', label: `${op}_backward`,
      bindings: [saved.slice(op), g.slice(op)],
      u: [n, 0, 0, 0], f: [0, 0, 0, 0],
    }, 256);
  }
  return new Tensor(saved.storage!.retain(), saved.shape, 'f32');
}

/**
 * Run a fused row loss and finish it: `module` (its vector width w1/w2/w4 is appended) takes
 * bindings 1 z, then `inputs`, then dz and rowLoss [B]; one invocation per row, workgroup 64.
 * The kernel writes each row's loss and (override GRAD = 1, when z requires grad) dL/dz
 * already divided by B (`f` ends with that 1 / B); the mean of the row losses is the loss,
 * and its backward scales the saved dL/dz by the upstream gradient. `labels` go to the
 * batch-mean check.
 */
export function fusedRowLoss(
  op: LossOp, module: string, z: Tensor, inputs: Tensor[], labels: Tensor | null, f: number[], constants: Record<string, number> = {},
): Tensor {
  const [b, n] = z.shape;
  const grad = needsGrad(z);
  const dz = grad ? out([b, n]) : null;
  const rowLoss = out([b]);
  launch1d(b, {
    module: `${module}:w${vecWidth(n)}`, label: op, constants: { ...constants, GRAD: grad ? 1 : 0 },
    // GRAD = 0: the device's placeholder fills the unused dz binding
    bindings: [z.slice(op), ...inputs.map((t) => t.slice(op)), dz ? dz.slice(op) : gpu().placeholder(), rowLoss.slice(op)],
    u: [b, n, 0, 0], f: [...f, 1 / b],
  }, 64);
  const y = batchMean(rowLoss, labels, n, op);
  rowLoss.dispose();
  if (dz) {
    record(op, [z], y, [dz], (g, [sdz]) => [scaleBySeed(sdz, g, op)]);
    dz.dispose();
  }
  return y;
}

/** A row kernel's code followed by the vector-width helpers for width w (kernels/vec_width.wgsl). */
export function withVecWidth(code: string, w: number): string {
  return `${code}\n${instantiate(vecSrc, `W${w}`)}`;
}
