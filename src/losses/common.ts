// Shared machinery of the losses: argument checks, the registration and launcher of the fused
// row losses (CE, KD, focus: rowLossKernels, fusedRowLoss; each declares its own parameter
// block beside its launcher, with the rows / classes / scale fields the launcher fills), the
// batch-mean reduction of per-row losses (two-level,
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
import { registerKernel, instantiate, paramBlock, gpu, grid, type Kernel, type ParamBlock, type ParamValues } from '../gpu/index.js';
import { Tensor, Storage, keep } from '../tensor/index.js';
import { record, isUnitSeed, needsGrad } from '../autograd/tape.js';
import { checkF32, checkI32, sameShape, out, OpError, shapeStr } from '../ops/common.js';

export const LOSSES_FILE = 'kernels/losses.wgsl';
/** FINISH: one level of the batch mean of `inputs` values into `outputs` sums of `chunk` each; the last level checks `label_count` labels against `classes`. */
const FinishParams = paramBlock('losses.finish', {
  outputs: 'u32', inputs: 'u32', chunk: 'u32', label_count: 'u32', classes: 'u32', opcode: 'u32', scale: 'f32',
});
/** CHECK: the FINISH label check alone. */
const CheckParams = paramBlock('losses.check', { label_count: 'u32', classes: 'u32', opcode: 'u32' });
/** SCALE: n elements (f32 or vec4) of a saved dL/dz times the upstream gradient. */
const ScaleParams = paramBlock('losses.scale', { n: 'u32' });
const K = {
  finish: registerKernel({ name: 'losses:finish', code: instantiate(src, ['FINISH', 'LABELS']), file: LOSSES_FILE, params: FinishParams }),
  check: registerKernel({ name: 'losses:check', code: instantiate(src, ['CHECK', 'LABELS']), file: LOSSES_FILE, params: CheckParams }),
  scale: registerKernel({ name: 'losses:scale', code: instantiate(src, 'SCALE', { SV: 'f32' }), file: LOSSES_FILE, params: ScaleParams }),
  scale4: registerKernel({ name: 'losses:scale4', code: instantiate(src, 'SCALE', { SV: 'vec4<f32>' }), file: LOSSES_FILE, params: ScaleParams }),
};

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
  // without labels, the device's placeholder fills the binding (label_count = 0: never read)
  const lab = labels ? labels.slice(op) : gpu().placeholder();
  const st = statusTensor();
  const opcode = OPS.indexOf(op);
  let srcT = rowLoss;
  let n = b;
  const scale = 1 / b;
  let partial: Tensor | null = null;
  if (b > CHUNK) {
    const k = Math.ceil(b / CHUNK);
    partial = out([k]);
    gpu().dispatch({
      kernel: K.finish, label: `${op}:sum_rows`,
      params: { outputs: k, inputs: b, chunk: CHUNK, label_count: 0, classes, opcode, scale: 1 },
      bindings: [rowLoss.slice(op), partial.slice(op), lab, st.slice(op)],
      workgroups: grid(k, 64),
    });
    srcT = partial;
    n = k;
  }
  const y = new LossTensor(Storage.alloc(4), [], 'f32');
  gpu().dispatch({
    kernel: K.finish, label: `${op}:mean`,
    params: { outputs: 1, inputs: n, chunk: Math.max(n, 1), label_count: labels ? labels.size : 0, classes, opcode, scale },
    bindings: [srcT.slice(op), y.slice(op), lab, st.slice(op)],
    workgroups: grid(1, 64),
  });
  if (labels) pending = true;
  partial?.dispose();
  return y;
}

/** Validate labels against `classes` on the GPU (composed losses); reported like batchMean. */
export function validateLabels(labels: Tensor, classes: number, op: LossOp): void {
  const st = statusTensor();
  gpu().dispatch({
    kernel: K.check, label: `${op}:check_labels`,
    params: { label_count: labels.size, classes, opcode: OPS.indexOf(op) },
    bindings: [labels.slice(op), st.slice(op)],
    workgroups: [1],
  });
  pending = true;
}

/**
 * The backward of a fused loss whose dL/dz the forward saved: scale it by the upstream
 * gradient g[0] in place (the node owns the only reference) and hand the buffer on; nothing to
 * scale when g is backward()'s own seed of 1 (`loss.backward()`). Labels `<op>_backward`
 * (f32 pass) and `<op>_backward:v4` (vec4 pass, when the size is a multiple of 4).
 */
function scaleBySeed(saved: Tensor, g: Tensor, op: string): Tensor {
  if (!isUnitSeed(g)) {
    const v4 = saved.size % 4 === 0;
    const n = v4 ? saved.size / 4 : saved.size;
    gpu().dispatch({
      kernel: v4 ? K.scale4 : K.scale, label: v4 ? `${op}_backward:v4` : `${op}_backward`,
      params: { n },
      bindings: [saved.slice(op), g.slice(op)],
      workgroups: grid(n, 256),
    });
  }
  return new Tensor(saved.storage!.retain(), saved.shape, 'f32');
}

/** The fields every fused row loss's block has (the ROW / focus entry points read rows and classes; the launcher fills all three). */
export type RowLossFields = { readonly rows: 'u32'; readonly classes: 'u32'; readonly scale: 'f32' };
/** A fused row loss's kernels by vector width (f32, vec2, vec4 loads). */
export type RowLossKernels<F extends RowLossFields> = Readonly<Record<1 | 2 | 4, Kernel<F>>>;
/** The values a fused row loss's launcher passes: its block less rows, classes and scale. */
export type RowLossOptions<F extends RowLossFields> = Omit<ParamValues<F>, keyof RowLossFields>;

/**
 * Register a fused row loss: `code` (one `//#params` line) with each vector-width block of
 * kernels/vec_width.wgsl appended, as `<name>:w1`, `<name>:w2`, `<name>:w4`.
 */
export function rowLossKernels<F extends RowLossFields>(name: string, code: string, file: string, params: ParamBlock<F>): RowLossKernels<F> {
  const k = (w: 1 | 2 | 4) => registerKernel({ name: `${name}:w${w}`, code: `${code}\n${instantiate(vecSrc, `W${w}`)}`, file, params });
  return { 1: k(1), 2: k(2), 4: k(4) };
}

/**
 * Run a fused row loss and finish it: the kernel of `kernels` for the row length's vector
 * width takes bindings 1 z, then `inputs`, then dz and rowLoss [B]; one invocation per row,
 * workgroup 64. The kernel writes each row's loss and (override GRAD = 1, when z requires
 * grad) dL/dz already divided by B (the block's `scale`); the mean of the row losses is the
 * loss, and its backward scales the saved dL/dz by the upstream gradient. `labels` go to the
 * batch-mean check. The row kernel's dispatch is labelled `<op>`, or `<op>:no_grad` for the
 * forward-only kernel (GRAD = 0).
 */
export function fusedRowLoss<F extends RowLossFields>(
  op: LossOp, kernels: RowLossKernels<F>, z: Tensor, inputs: Tensor[], labels: Tensor | null, options: RowLossOptions<F>, constants: Record<string, number> = {},
): Tensor {
  const [b, n] = z.shape;
  const grad = needsGrad(z);
  const dz = grad ? out([b, n]) : null;
  const rowLoss = out([b]);
  gpu().dispatch({
    kernel: kernels[vecWidth(n)], label: grad ? op : `${op}:no_grad`, constants: { ...constants, GRAD: grad ? 1 : 0 },
    params: { ...options, rows: b, classes: n, scale: 1 / b } as unknown as ParamValues<F>,
    // GRAD = 0: the device's placeholder fills the unused dz binding
    bindings: [z.slice(op), ...inputs.map((t) => t.slice(op)), dz ? dz.slice(op) : gpu().placeholder(), rowLoss.slice(op)],
    workgroups: grid(b, 64),
  });
  const y = batchMean(rowLoss, labels, n, op);
  rowLoss.dispose();
  if (dz) {
    record(op, [z], y, [dz], (g, [sdz]) => [scaleBySeed(sdz, g, op)]);
    dz.dispose();
  }
  return y;
}
