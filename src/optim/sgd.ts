// SGD with momentum, weight decay and Nesterov (torch.optim.SGD semantics).
//
// On construction the parameters are moved into arenas: one buffer holding
// every parameter (each at a 256-byte aligned offset), one holding their
// gradients, one their momentum. Each parameter tensor becomes a view of its
// slot and its `.grad` a view of the gradient slot, so backward accumulates in
// place and `step()` is one dispatch per arena (arenas are split at 64 MiB to stay
// within binding limits).
//
// zeroGrad() fills nothing: it marks every gradient view zero-pending (Tensor.zeroPending).
// The first backward that reaches a parameter then copies its gradient into the slot
// (copyBufferToBuffer) instead of accumulating into a zero-filled one; later backward
// calls accumulate as usual. Gradients still pending at step() (parameters that got no
// gradient this step) are filled with zeros right before the update (one fill for the
// whole arena when none was written), so weight decay and momentum see a zero gradient
// as in PyTorch; reading `.grad` while pending fills it too, so users always see zeros.
//
// firstNonFinite() scans the parameter arenas for NaN or ±Inf on the GPU (one read-only pass
// per arena, one small readback): the divergence guard of the trainer, which catches a model
// gone NaN even where the loss stays finite.
//
// Misuse is refused with the optimizer's own errors, before any dispatch: a parameter that was
// disposed (or whose device shutdown() released) in step(), zeroGrad() and the state dict, and
// any use after dispose().

import src from '../../kernels/sgd.wgsl';
import { registerKernel, paramBlock, gpu, grid, markNonFinite, deviceGeneration, type BufferSlice } from '../gpu/index.js';
import { Tensor, Storage, keep, shapeStr, materializeZero, fillInPlace, zeros, RELEASED_DEVICE } from '../tensor/index.js';
import { OpError } from '../errors.js';

/** One update over an arena of n4 vec4s (kernels/sgd.wgsl). */
const SgdParams = paramBlock('sgd', {
  n4: 'u32', first_step: 'bool', nesterov: 'bool', use_momentum: 'bool',
  lr: 'f32', momentum: 'f32', dampening: 'f32', weight_decay: 'f32', scaled: 'bool', unscaled: 'bool',
});
const SGD_KERNEL = registerKernel({ name: 'sgd', code: src, params: SgdParams });

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

interface Arena {
  bytes: number;
  params: GPUBuffer;
  grads: GPUBuffer;
  moms: GPUBuffer | null;
  grad: Tensor; // a flat f32 view of the whole gradient arena
  views: Tensor[]; // each parameter's gradient view (its .grad)
  members: Tensor[]; // the parameters in the arena, in order
  offsets: number[]; // each parameter's first element in the arena (in f32 values)
}

/** A parameter holding NaN or ±Inf (SGD.firstNonFinite). */
export interface NonFiniteParam {
  /** its state-dict key, or `#id` */
  name: string;
  shape: readonly number[];
  /** the first such element (flat index) and its value */
  index: number;
  value: number;
}

const paramName = (p: Tensor) => (p.name ? `'${p.name}'` : `#${p.id}`);

const ALIGN = 256;
const ARENA_MAX = 64 * 1024 * 1024;

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly params: Tensor[];
  private arenas: Arena[] = [];
  private steps = 0;
  private disposed = false;
  /** the device the arenas live on (see deviceGeneration) */
  private readonly generation = deviceGeneration();

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    if (!(opts && typeof opts.lr === 'number' && opts.lr >= 0)) throw new OpError('SGD', `lr must be a number >= 0, got ${opts && opts.lr}`);
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new OpError('SGD', 'Nesterov momentum requires a momentum > 0 and zero dampening');
    }
    this.params = [...params];
    const seen = new Set<Tensor>();
    for (const p of this.params) {
      if (!(p instanceof Tensor) || p.disposed) throw new OpError('SGD', 'every parameter must be a live Tensor');
      if (p.dtype !== 'f32') throw new OpError('SGD', `parameter ${p.name ?? '#' + p.id} ${shapeStr(p.shape)} must be f32`);
      if (seen.has(p)) throw new OpError('SGD', `parameter ${p.name ?? '#' + p.id} appears twice`);
      seen.add(p);
    }
    this.pack();
  }

  private pack(): void {
    const g = gpu();
    let group: Tensor[] = [];
    let bytes = 0;
    const groups: { ps: Tensor[]; bytes: number }[] = [];
    for (const p of this.params) {
      const sz = Math.ceil((p.size * 4) / ALIGN) * ALIGN;
      if (bytes + sz > ARENA_MAX && group.length) {
        groups.push({ ps: group, bytes });
        group = [];
        bytes = 0;
      }
      group.push(p);
      bytes += sz;
    }
    if (group.length) groups.push({ ps: group, bytes });
    for (const { ps, bytes: total } of groups) {
      const params = g.pool.acquire(total);
      const grads = g.pool.acquire(total);
      const moms = this.momentum !== 0 ? g.pool.acquire(total) : null;
      const flat = new Tensor(Storage.view(grads, 0, total), [total / 4], 'f32');
      keep(flat);
      fillInPlace(flat, 0);
      if (moms) {
        const m = new Tensor(Storage.view(moms, 0, total), [total / 4], 'f32');
        fillInPlace(m, 0);
        m.dispose();
      }
      // the params arena's padding must hold zeros too (the update runs over it)
      const pflat = new Tensor(Storage.view(params, 0, total), [total / 4], 'f32');
      fillInPlace(pflat, 0);
      pflat.dispose();
      let off = 0;
      const views: Tensor[] = [];
      const offsets: number[] = [];
      for (const p of ps) {
        offsets.push(off / 4);
        const bytesP = p.size * 4;
        if (bytesP > 0) g.copy(p.slice('SGD'), { buffer: params, offset: off, size: bytesP }, bytesP);
        p.storage!.release();
        p.storage = Storage.view(params, off, bytesP);
        if (p.grad) {
          if (p.grad.size > 0) g.copy(p.grad.slice('SGD'), { buffer: grads, offset: off, size: bytesP }, bytesP);
          p.grad.dispose();
        }
        p.grad = keep(new Tensor(Storage.view(grads, off, bytesP), p.shape, 'f32'));
        views.push(p.gradSlot!);
        off += Math.ceil(bytesP / ALIGN) * ALIGN;
      }
      this.arenas.push({ bytes: total, params, grads, moms, grad: flat, views, members: ps, offsets });
    }
  }

  /**
   * Set every gradient to zero. Lazily: each gradient is marked zero-pending, the next
   * backward overwrites it instead of accumulating, and step() (or reading `.grad`) fills
   * the ones no backward reached.
   */
  zeroGrad(): void {
    this.usable('SGD.zeroGrad');
    for (const a of this.arenas) for (const v of a.views) v.zeroPending = true;
  }

  /**
   * Refuse to run on what is gone: the optimizer after dispose(), a parameter disposed while the
   * optimizer still holds it (its model was disposed, or dispose() was called on it), a parameter
   * of a device that shutdown() released. Names the parameter and what to do.
   */
  private usable(op: string): void {
    if (this.disposed) throw new OpError(op, 'this optimizer was disposed (dispose() gave its parameter arenas back); create a new optim.SGD over live parameters');
    for (const p of this.params) {
      if (p.disposed) {
        throw new OpError(
          op,
          `parameter ${paramName(p)} ${shapeStr(p.shape)} was disposed (dispose() on it or on its model) but this optimizer still updates it; ` +
            'dispose the optimizer together with its model, or create a new optim.SGD over the parameters you keep',
        );
      }
      if (p.deviceReleased) throw new OpError(op, `parameter ${paramName(p)} ${shapeStr(p.shape)} ${RELEASED_DEVICE}`);
    }
  }

  /** Fill the gradients still pending zero (one fill per arena when none was written). */
  private materializePending(): void {
    for (const a of this.arenas) {
      const pending = a.views.filter((v) => v.zeroPending);
      if (!pending.length) continue;
      if (pending.length === a.views.length) {
        fillInPlace(a.grad, 0);
        for (const v of pending) v.zeroPending = false;
      } else {
        for (const v of pending) materializeZero(v);
      }
    }
  }

  /**
   * @internal the gradient arenas as flat f32 slices, pending zeros filled first (what
   * GradScaler checks for non-finite values before stepping).
   */
  gradientSlices(): BufferSlice[] {
    this.materializePending();
    return this.arenas.map((a) => ({ buffer: a.grads, offset: 0, size: a.bytes }));
  }

  /**
   * Apply one update to every parameter (one dispatch per arena). `scaler` is GradScaler's (use
   * `scaler.step(opt)`): skip the update on the GPU when it found a non-finite gradient, else
   * divide the gradients by its scale (unless `unscaled`).
   */
  step(scaler?: { state: BufferSlice; unscaled: boolean }): void {
    this.usable('SGD.step');
    const g = gpu();
    const first = this.steps === 0;
    this.materializePending();
    for (const a of this.arenas) {
      const n4 = a.bytes / 16;
      g.dispatch({
        kernel: SGD_KERNEL,
        label: 'sgd_update',
        params: {
          n4, first_step: first, nesterov: this.nesterov, use_momentum: a.moms !== null,
          lr: this.lr, momentum: this.momentum, dampening: this.dampening, weight_decay: this.weightDecay,
          scaled: !!scaler, unscaled: !!scaler?.unscaled,
        },
        bindings: [
          { buffer: a.params, offset: 0, size: a.bytes },
          { buffer: a.grads, offset: 0, size: a.bytes },
          a.moms ? { buffer: a.moms, offset: 0, size: a.bytes } : gpu().placeholder(),
          // without a scaler the binding is never read (p.scaled = 0); it must not be the
          // placeholder, which binding 3 may already hold writable
          scaler ? scaler.state : { buffer: a.grads, offset: 0, size: 16 },
        ],
        workgroups: grid(n4, 256),
      });
    }
    this.steps++;
  }

  /** Momentum buffers and step count, for checkpoints. */
  async stateDict(): Promise<{ step: number; momentum: Float32Array[] }> {
    this.usable('SGD.stateDict');
    const out: Float32Array[] = [];
    for (const a of this.arenas) {
      if (a.moms) out.push(new Float32Array(await gpu().read({ buffer: a.moms, offset: 0, size: a.bytes }, a.bytes)));
    }
    return { step: this.steps, momentum: out };
  }

  loadStateDict(s: { step: number; momentum: Float32Array[] }): void {
    this.usable('SGD.loadStateDict');
    this.steps = s.step;
    const withMom = this.arenas.filter((a) => a.moms);
    if (s.momentum.length !== withMom.length) throw new OpError('SGD.loadStateDict', `expected ${withMom.length} momentum arenas, got ${s.momentum.length}`);
    withMom.forEach((a, i) => {
      if (s.momentum[i].byteLength !== a.bytes) throw new OpError('SGD.loadStateDict', `momentum arena ${i} has ${s.momentum[i].byteLength} bytes, expected ${a.bytes}`);
      gpu().write({ buffer: a.moms!, offset: 0, size: a.bytes }, s.momentum[i]);
    });
  }

  /**
   * The first parameter holding NaN or ±Inf, or null when all are finite: one read-only pass over
   * each arena on the GPU (kernels/util.wgsl NONFINITE4) into a u32 per arena, then one readback
   * (a second one, of the offending value, only when there is one). Meant to be awaited next to a
   * readback the caller makes anyway (the trainer's periodic metrics read).
   */
  async firstNonFinite(): Promise<NonFiniteParam | null> {
    this.usable('SGD.firstNonFinite');
    if (!this.arenas.length) return null;
    const flags = zeros([this.arenas.length], { dtype: 'i32' });
    this.arenas.forEach((a, i) => markNonFinite({ buffer: a.params, offset: 0, size: a.bytes }, a.bytes / 4, flags.slice('SGD.firstNonFinite'), i));
    let found: Int32Array;
    try {
      found = (await flags.read()) as Int32Array;
    } finally {
      flags.dispose();
    }
    for (let i = 0; i < this.arenas.length; i++) {
      if (found[i] === 0) continue;
      const a = this.arenas[i];
      const at = 0xffffffff - (found[i] >>> 0);
      let k = a.offsets.length - 1;
      while (k > 0 && a.offsets[k] > at) k--;
      const p = a.members[k];
      const value = new Float32Array(await gpu().read({ buffer: a.params, offset: at * 4, size: 4 }, 4))[0];
      return { name: p.name ?? `#${p.id}`, shape: p.shape, index: at - a.offsets[k], value };
    }
    return null;
  }

  /** Give the arenas back to the pool; the parameters become unusable. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.params) {
      p.storage = null;
      p.grad = null;
    }
    // arenas of a device that shutdown() released went with it
    const live = this.generation === deviceGeneration();
    const g = live ? gpu() : null;
    for (const a of live ? this.arenas : []) {
      g!.pool.release(a.params);
      g!.pool.release(a.grads);
      if (a.moms) g!.pool.release(a.moms);
    }
    this.arenas = [];
  }

  get stepCount(): number {
    return this.steps;
  }
}
