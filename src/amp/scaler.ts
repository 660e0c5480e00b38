// GradScaler: dynamic loss scaling for mixed precision, with torch.amp.GradScaler's semantics and
// names, and no readback per step. The loss is multiplied by the scale before backward (so small
// gradients survive the f16 operands of the backward products); step(opt) checks the optimizer's
// gradients for Inf/NaN on the GPU (kernels/amp.wgsl CHECK) and runs the optimizer's update,
// which divides the gradients by the scale and is skipped, on the GPU, when the check found one;
// update() then halves the scale after an overflow, or doubles it after `growthInterval` finite
// steps in a row. The scale, the overflow flag and the counters live in one GPU buffer: read them
// with `stats()` when other numbers are read anyway (the trainer does, every logEvery steps).
//
//   const scaler = new amp.GradScaler();
//   const loss = amp.autocast(() => losses.crossEntropy(model.forward(x), y));
//   opt.zeroGrad();
//   scaler.scale(loss).backward();
//   scaler.step(opt);      // skipped (on the GPU) if a gradient is not finite
//   scaler.update();

import src from '../../kernels/amp.wgsl';
import { registerKernel, instantiate, paramBlock, gpu, grid, type BufferSlice } from '../gpu/index.js';
import { Tensor, Storage } from '../tensor/index.js';
import { OpError } from '../errors.js';
import { mul } from '../ops/elementwise.js';
import { check } from '../ops/common.js';
import type { SGD } from '../optim/sgd.js';

const FILE = 'kernels/amp.wgsl';
const CheckParams = paramBlock('amp.check', { n4: 'u32', unscale: 'bool' });
const UpdateParams = paramBlock('amp.update', { growth: 'f32', backoff: 'f32', interval: 'u32' });
const CHECK = registerKernel({ name: 'amp:check', code: instantiate(src, ['CHECK']), file: FILE, params: CheckParams });
const UPDATE = registerKernel({ name: 'amp:update', code: instantiate(src, ['UPDATE']), file: FILE, params: UpdateParams });

/** Bytes of the state buffer (8 words: scale, found_inf, growth_tracker, skipped, steps, 3 unused). */
const STATE_BYTES = 32;

export interface GradScalerOptions {
  /** the first scale (default 2^16, as PyTorch) */
  initScale?: number;
  /** scale ← scale · growthFactor after growthInterval finite steps in a row (default 2) */
  growthFactor?: number;
  /** scale ← scale · backoffFactor after a step with a non-finite gradient (default 0.5) */
  backoffFactor?: number;
  /** default 2000 */
  growthInterval?: number;
  /** false: scale() returns the loss unchanged and step() is a plain opt.step() (default true) */
  enabled?: boolean;
}

/** What the GPU state says (read by `stats()`). */
export interface GradScalerStats {
  /** the current loss scale */
  scale: number;
  /** steps skipped so far because a gradient was Inf or NaN */
  skippedSteps: number;
  /** update() calls so far */
  steps: number;
  /** finite steps since the scale last changed */
  growthTracker: number;
}

/** The state a checkpoint keeps (torch's GradScaler.state_dict(), camelCased). */
export interface GradScalerState {
  scale: number;
  growthTracker: number;
  skippedSteps: number;
  steps: number;
}

function positive(name: string, v: number, ok: (v: number) => boolean, want: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new OpError('GradScaler', `option '${name}' must be ${want}, got ${String(v)}`);
  return v;
}

export class GradScaler {
  readonly enabled: boolean;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  private state: GPUBuffer | null = null;
  /** optimizers stepped (or unscaled) since the last update(), and whether their gradients are unscaled */
  private pending = new Map<SGD, { unscaled: boolean; stepped: boolean }>();

  constructor(opts: GradScalerOptions = {}) {
    if (opts === null || typeof opts !== 'object') throw new OpError('GradScaler', `options must be an object, got ${opts === null ? 'null' : typeof opts}`);
    const known = ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled'];
    for (const k of Object.keys(opts)) if (!known.includes(k)) throw new OpError('GradScaler', `unknown option '${k}'; options: ${known.join(', ')}`);
    this.enabled = opts.enabled ?? true;
    const initScale = positive('initScale', opts.initScale ?? 2 ** 16, (v) => v > 0, 'a finite number > 0');
    this.growthFactor = positive('growthFactor', opts.growthFactor ?? 2, (v) => v > 1, 'a finite number > 1');
    this.backoffFactor = positive('backoffFactor', opts.backoffFactor ?? 0.5, (v) => v > 0 && v < 1, 'a number in (0, 1)');
    this.growthInterval = positive('growthInterval', opts.growthInterval ?? 2000, (v) => Number.isInteger(v) && v >= 1 && v < 2 ** 32, 'a whole number >= 1');
    if (!this.enabled) return;
    this.state = gpu().pool.acquire(STATE_BYTES);
    this.write({ scale: initScale, growthTracker: 0, skippedSteps: 0, steps: 0 });
  }

  private slice(op: string): BufferSlice {
    if (!this.state) throw new OpError(op, this.enabled ? 'this GradScaler was disposed' : 'this GradScaler is disabled');
    return { buffer: this.state, offset: 0, size: STATE_BYTES };
  }

  private write(s: GradScalerState): void {
    const words = new ArrayBuffer(STATE_BYTES);
    new Float32Array(words, 0, 1)[0] = s.scale;
    new Uint32Array(words).set([0, s.growthTracker, s.skippedSteps, s.steps], 1);
    gpu().write(this.slice('GradScaler'), new Uint32Array(words));
  }

  /**
   * `loss` · scale (differentiable in `loss`): call backward() on this. The scale is read on the
   * GPU, so this does not wait for anything. Disabled: `loss` itself.
   */
  scale(loss: Tensor): Tensor {
    check(loss, 'GradScaler.scale', 'loss');
    if (!this.enabled) return loss;
    // a view of the state's first word, shaped like the loss (no copy; not a parameter)
    const s = new Tensor(Storage.view(this.slice('GradScaler.scale').buffer, 0, 4), loss.size === 1 ? loss.shape : [1], 'f32');
    const y = mul(loss, s);
    s.dispose();
    return y;
  }

  /** Check `opt`'s gradients for Inf/NaN (on the GPU) and, with `unscale`, divide them by the scale in place. */
  private check(opt: SGD, unscale: boolean): void {
    for (const sl of opt.gradientSlices()) {
      const n4 = sl.size / 16;
      gpu().dispatch({
        kernel: CHECK, label: unscale ? 'amp_unscale' : 'amp_check',
        params: { n4, unscale },
        bindings: [sl, this.slice('GradScaler.step')],
        workgroups: grid(n4, 256),
      });
    }
  }

  /**
   * Divide `opt`'s gradients by the scale in place, checking them (torch's unscale_): for code
   * that reads or clips gradients between backward and step. At most once per optimizer and step.
   */
  unscale(opt: SGD): void {
    if (!this.enabled) return;
    const p = this.pending.get(opt);
    if (p?.stepped) throw new OpError('GradScaler.unscale', 'unscale() is called before step(), not after it');
    if (p?.unscaled) throw new OpError('GradScaler.unscale', 'unscale() was already called on this optimizer since the last update()');
    this.check(opt, true);
    this.pending.set(opt, { unscaled: true, stepped: false });
  }

  /**
   * The optimizer's step on the unscaled gradients, skipped on the GPU when any gradient is Inf or
   * NaN (torch's scaler.step(optimizer)). Disabled: opt.step().
   */
  step(opt: SGD): void {
    if (!opt || typeof (opt as SGD).gradientSlices !== 'function') throw new OpError('GradScaler.step', 'expects an optimizer (optim.SGD)');
    if (!this.enabled) {
      opt.step();
      return;
    }
    const p = this.pending.get(opt);
    if (p?.stepped) throw new OpError('GradScaler.step', 'step() was already called on this optimizer since the last update()');
    if (!p?.unscaled) this.check(opt, false);
    opt.step({ state: this.slice('GradScaler.step'), unscaled: !!p?.unscaled });
    this.pending.set(opt, { unscaled: !!p?.unscaled, stepped: true });
  }

  /** Adjust the scale for the next step (on the GPU): back off after an overflow, grow after growthInterval clean steps. */
  update(): void {
    if (!this.enabled) return;
    gpu().dispatch({
      kernel: UPDATE, label: 'amp_update',
      params: { growth: this.growthFactor, backoff: this.backoffFactor, interval: this.growthInterval },
      bindings: [this.slice('GradScaler.update')],
      workgroups: [1],
    });
    this.pending.clear();
  }

  /** The GPU state (one readback: call it when other numbers are read anyway). */
  async stats(): Promise<GradScalerStats> {
    if (!this.enabled) return { scale: 1, skippedSteps: 0, steps: 0, growthTracker: 0 };
    const bytes = await gpu().read(this.slice('GradScaler.stats'), STATE_BYTES);
    const u = new Uint32Array(bytes);
    return { scale: new Float32Array(bytes, 0, 1)[0], growthTracker: u[2], skippedSteps: u[3], steps: u[4] };
  }

  /** The current scale (a readback, like torch's get_scale()). */
  async getScale(): Promise<number> {
    return (await this.stats()).scale;
  }

  async stateDict(): Promise<GradScalerState> {
    const s = await this.stats();
    return { scale: s.scale, growthTracker: s.growthTracker, skippedSteps: s.skippedSteps, steps: s.steps };
  }

  loadStateDict(s: GradScalerState): void {
    if (!this.enabled) return;
    const ok = s && Number.isFinite(s.scale) && s.scale > 0 && [s.growthTracker, s.skippedSteps, s.steps].every((v) => Number.isInteger(v) && v >= 0);
    if (!ok) throw new OpError('GradScaler.loadStateDict', `expected { scale > 0, growthTracker, skippedSteps, steps >= 0 }, got ${JSON.stringify(s)}`);
    this.write(s);
    this.pending.clear();
  }

  /** Give the state buffer back (after the submits that use it). */
  dispose(): void {
    if (this.state) gpu().pool.release(this.state);
    this.state = null;
  }
}
