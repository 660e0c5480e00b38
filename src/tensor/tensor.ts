// Tensor: shape, dtype, and a reference-counted slice of a pooled GPU buffer (storage.ts).
//
// Lifetimes are explicit. `dispose()` drops the tensor's reference; the storage returns to the
// pool when its last reference (views from reshape, copies saved for backward) is gone.
// `scope(fn)` (scope.ts) disposes every tensor and releases every autograd node created inside
// `fn` except what `fn` returns (and tensors marked with `keep`), which is how a training step
// stays flat in memory.
//
// The one hook between this layer and the layers above it (`installEngine`, called once by the
// package's API module, src/api.ts): `Tensor.backward()` runs the reverse pass of src/autograd
// and `Tensor.view()` is the differentiable reshape of src/ops. Everything else this layer
// needs it does itself.

import type { BufferSlice } from '../gpu/index.js';
import { gpu, fillBuffer } from '../gpu/index.js';
import { OpError } from '../errors.js';
import { Storage } from './storage.js';
import { fromHalfBits } from '../util/half.js';
import { trackTensor, TENSOR } from './scope.js';
import { markLoose, unmarkLoose, finalizerRan, type LooseMark } from './loose.js';

export { Storage };
/** 'f16' (IEEE half, 2 bytes): the operands of mixed-precision matmuls and convolutions (src/amp). */
export type DType = 'f32' | 'i32' | 'f16';
export type Shape = readonly number[];

/** A node of the autograd tape: how to map the output's gradient to the inputs' gradients. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** returns one gradient per input (null where none flows); must return fresh tensors */
  backward(grad: Tensor): (Tensor | null)[];
  /**
   * Free what was saved for backward. With `cascade` (the default), inputs that are disposed and
   * no longer used by any live node have their own nodes released too (nothing can
   * backpropagate through them any more). backward() passes false: it releases every node of
   * its graph itself, in order.
   */
  release(cascade?: boolean): void;
  /** @internal drop the saved tensors only (release() does this and more) */
  freeSaved(): void;
  released: boolean;
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes of `size` elements of `dtype` in a buffer (f16 rounded up to whole 4-byte words). */
export function bytesOf(dtype: DType, size: number): number {
  return dtype === 'f16' ? Math.ceil(size / 2) * 4 : size * 4;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

let nextId = 1;

/** What the engine says of a tensor from a device that shutdown() released (after its id and shape). */
export const RELEASED_DEVICE =
  'belongs to a GPU device that shutdown() released: its data is gone. Read what you need before shutdown(), and create tensors (and models, optimizers) again after init()';

/**
 * What a tensor owns. For the finalizer: a tensor that becomes unreachable without dispose() (code
 * that forgets scope()) gives its storage reference back when the garbage collector finds it. Its
 * autograd node is unreachable with it, and so are the node's saved tensors, which the same
 * finalizer releases in the same collection (the held value must not reference the node: that
 * would keep the node's inputs alive one collection per graph level). JavaScript runs finalizers
 * only between tasks, so a loop that never yields to the event loop reclaims nothing this way
 * (the gpu layer warns when work piles up like that). `loose` counts the storage's bytes while no
 * scope owns the tensor (loose.ts: what asks for a collection when such bytes pile up).
 */
interface Owned extends LooseMark {
  storage: Storage | null;
}
const finalizer = new FinalizationRegistry<Owned>((o) => {
  o.storage?.release();
  unmarkLoose(o);
  finalizerRan();
});

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  private readonly owned: Owned;
  requiresGrad = false;
  /** @internal the gradient tensor as stored (see `grad`) */
  gradSlot: Tensor | null = null;
  /**
   * @internal set by an optimizer's zeroGrad() on its gradient views instead of filling them: the
   * data is stale and stands for zeros. Backward overwrites (copies into) such a gradient instead
   * of accumulating; reading it through `.grad` fills it first.
   */
  zeroPending = false;
  /** @internal number of unreleased autograd nodes that take this tensor as an input */
  graphRefs = 0;
  /** optional name (parameters carry their state-dict key) */
  name?: string;

  constructor(storage: Storage, shape: Shape, dtype: DType) {
    this.owned = { storage, loose: 0 };
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = numel(shape);
    finalizer.register(this, this.owned, this);
    // a fresh pooled allocation no scope owns: loose (views share a storage counted once)
    if (!trackTensor(this) && storage.isPooled && storage.refs === 1) markLoose(this.owned, storage.bytes);
  }

  /** @internal scope.ts: no scope owns this tensor any more (returned from the outermost), or one does again / it is kept */
  setLoose(loose: boolean): void {
    const s = this.owned.storage;
    if (!loose) unmarkLoose(this.owned);
    else if (s && s.isPooled) markLoose(this.owned, s.bytes);
  }

  /** @internal the data; null once disposed */
  get storage(): Storage | null {
    return this.owned.storage;
  }
  set storage(s: Storage | null) {
    this.owned.storage = s;
  }

  /** @internal the autograd node that produced this tensor */
  node: GradNode | null = null;

  get rank(): number {
    return this.shape.length;
  }

  /** The accumulated gradient (after backward), or null. */
  get grad(): Tensor | null {
    const g = this.gradSlot;
    if (g && g.zeroPending) materializeZero(g);
    return g;
  }

  set grad(g: Tensor | null) {
    this.gradSlot = g;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** The GPU slice holding this tensor's data; throws if disposed or from a released device. */
  slice(op = 'op'): BufferSlice {
    const s = this.storage;
    if (!s) throw new OpError(op, `tensor #${this.id} ${shapeStr(this.shape)} was used after dispose()`);
    if (!s.live) throw new OpError(op, `tensor #${this.id} ${shapeStr(this.shape)} ${RELEASED_DEVICE}`);
    return { buffer: s.buffer, offset: s.offset, size: Math.max(4, bytesOf(this.dtype, this.size)) };
  }

  /** Whether this tensor's data lives on a device that shutdown() released (false once disposed). */
  get deviceReleased(): boolean {
    const s = this.storage;
    return s !== null && !s.live;
  }

  /** Read the data back to the CPU (Float32Array, or Int32Array for 'i32'; an 'f16' tensor's values as f32). */
  async read(): Promise<Float32Array | Int32Array> {
    const sl = this.slice('read');
    const bytes = await gpu().read(sl, bytesOf(this.dtype, this.size));
    if (this.dtype === 'f16') return fromHalfBits(bytes, this.size);
    return this.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** The value of a single-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new OpError('item', `expected a single-element tensor, got ${shapeStr(this.shape)}`);
    return (await this.read())[0];
  }

  /**
   * Drop this tensor's reference to its data (and its gradient). Safe to call twice. If no live
   * autograd node uses this tensor, the node that produced it is released too (and, transitively,
   * the graph behind it that nothing else uses), so a graph that is never backpropagated does not
   * hold its saved tensors once its outputs are disposed.
   */
  dispose(): void {
    if (this.storage) {
      this.storage.release();
      this.storage = null;
      finalizer.unregister(this);
      unmarkLoose(this.owned);
    }
    if (this.node && !this.node.released && this.graphRefs === 0) this.node.release();
    if (this.gradSlot) {
      this.gradSlot.dispose();
      this.gradSlot = null;
    }
  }

  /**
   * The same data with another shape of the same size (`-1` infers one dimension), differentiable
   * like PyTorch's `Tensor.view` (the gradient flows back to this tensor): `ops.reshape`.
   */
  view(shape: readonly number[]): Tensor {
    return engine().reshape(this, shape);
  }

  /**
   * A new tensor sharing this one's storage, with another shape of the same size, detached from
   * autograd (no gradient flows through it, like `t.detach().view(shape)`): what backward rules
   * and launchers use on data they own.
   */
  detachedView(shape: Shape): Tensor {
    const s = this.storage;
    if (!s) throw new OpError('reshape', `tensor #${this.id} ${shapeStr(this.shape)} was used after dispose()`);
    return new Tensor(s.retain(), shape, this.dtype);
  }

  /**
   * Reverse-mode gradient of this scalar (or, with `grad`, of Σ grad·this) with respect to every
   * tensor with requiresGrad; gradients accumulate into `.grad`.
   */
  backward(grad?: Tensor): void {
    // a graph is made on one device (ops refuse tensors of a released one), so its root tells
    if (this.deviceReleased) throw new OpError('backward', `tensor #${this.id} ${shapeStr(this.shape)} ${RELEASED_DEVICE}`);
    if (grad instanceof Tensor && grad.deviceReleased) throw new OpError('backward', `the gradient (tensor #${grad.id} ${shapeStr(grad.shape)}) ${RELEASED_DEVICE}`);
    engine().backward(this, grad);
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** @internal fill a pending-zero gradient with zeros now and clear its flag */
export function materializeZero(g: Tensor): void {
  g.zeroPending = false;
  if (!g.disposed) fillBuffer(g.slice('grad'), g.size, 0);
}

(Tensor.prototype as unknown as Record<symbol, boolean>)[TENSOR] = true;

/** What Tensor's methods need from the layers above (see the header). */
export interface TensorEngine {
  /** the reverse pass (src/autograd) */
  backward(root: Tensor, seed?: Tensor): void;
  /** the differentiable reshape (src/ops) */
  reshape(t: Tensor, shape: readonly number[]): Tensor;
}

let installed: TensorEngine | null = null;
/** The hook: the package's API module installs autograd's backward and ops' reshape once. */
export function installEngine(e: TensorEngine): void {
  installed = e;
}

function engine(): TensorEngine {
  if (!installed) throw new Error('focusnet: autograd and ops are not loaded (import the library through its package entry)');
  return installed;
}
