// Tensor: shape, dtype, and a reference-counted slice of a pooled GPU buffer.
//
// Lifetimes are explicit. `dispose()` drops the tensor's reference; the
// storage returns to the pool when its last reference (views from reshape,
// copies saved for backward) is gone. `scope(fn)` disposes every tensor and
// releases every autograd node created inside `fn` except what `fn` returns
// (and tensors marked with `keep`), which is how a training step stays flat
// in memory.

import { gpu, BufferSlice } from '../gpu/device.js';
import { OpError } from '../gpu/errors.js';

export type DType = 'f32' | 'i32';
export type Shape = readonly number[];

/** A reference-counted slice of a pooled buffer. */
export class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly offset: number,
    readonly bytes: number,
    /** false for slices of an arena owned by someone else (the optimizer's parameter arena) */
    private readonly pooled: boolean,
  ) {}
  retain(): this {
    if (this.refs <= 0) throw new Error('focusnet: internal: retaining freed storage');
    this.refs++;
    return this;
  }
  release(): void {
    if (--this.refs === 0 && this.pooled) gpu().pool.release(this.buffer);
  }
  static alloc(bytes: number): Storage {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    return new Storage(gpu().pool.acquire(size), 0, size, true);
  }
  static view(buffer: GPUBuffer, offset: number, bytes: number): Storage {
    return new Storage(buffer, offset, bytes, false);
  }
}

/** A node of the autograd tape: how to map the output's gradient to the inputs' gradients. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** returns one gradient per input (null where none flows); must return fresh tensors */
  backward(grad: Tensor): (Tensor | null)[];
  /**
   * Free what was saved for backward. With `cascade` (the default), inputs that are
   * disposed and no longer used by any live node have their own nodes released too
   * (nothing can backpropagate through them any more). backward() passes false: it
   * releases every node of its graph itself, in order.
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

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** @internal */ storage: Storage | null;
  requiresGrad = false;
  /** @internal the gradient tensor as stored (see `grad`) */
  gradSlot: Tensor | null = null;
  /**
   * @internal set by an optimizer's zeroGrad() on its gradient views instead of filling
   * them: the data is stale and stands for zeros. Backward overwrites (copies into) such a
   * gradient instead of accumulating; reading it through `.grad` fills it first.
   */
  zeroPending = false;
  /** @internal */ node: GradNode | null = null;
  /** @internal number of unreleased autograd nodes that take this tensor as an input */
  graphRefs = 0;
  /** optional name (parameters carry their state-dict key) */
  name?: string;

  constructor(storage: Storage, shape: Shape, dtype: DType) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = numel(shape);
    currentScope()?.tensors.push(this);
  }

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

  /** The GPU slice holding this tensor's data; throws if disposed. */
  slice(op = 'op'): BufferSlice {
    const s = this.storage;
    if (!s) throw new OpError(op, `tensor #${this.id} ${shapeStr(this.shape)} was used after dispose()`);
    return { buffer: s.buffer, offset: s.offset, size: Math.max(4, this.size * 4) };
  }

  /** Read the data back to the CPU (Float32Array, or Int32Array for 'i32'). */
  async read(): Promise<Float32Array | Int32Array> {
    const sl = this.slice('read');
    const bytes = await gpu().read(sl, this.size * 4);
    return this.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** The value of a single-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new OpError('item', `expected a single-element tensor, got ${shapeStr(this.shape)}`);
    return (await this.read())[0];
  }

  /**
   * Drop this tensor's reference to its data (and its gradient). Safe to call twice.
   * If no live autograd node uses this tensor, the node that produced it is released too
   * (and, transitively, the graph behind it that nothing else uses), so a graph that is
   * never backpropagated does not hold its saved tensors once its outputs are disposed.
   */
  dispose(): void {
    if (this.storage) {
      this.storage.release();
      this.storage = null;
    }
    if (this.node && !this.node.released && this.graphRefs === 0) this.node.release();
    if (this.gradSlot) {
      this.gradSlot.dispose();
      this.gradSlot = null;
    }
  }

  /** A new tensor sharing this one's storage, with another shape of the same size. */
  view(shape: Shape): Tensor {
    const s = this.storage;
    if (!s) throw new OpError('reshape', `tensor #${this.id} ${shapeStr(this.shape)} was used after dispose()`);
    return new Tensor(s.retain(), shape, this.dtype);
  }

  /** Reverse-mode gradient of this scalar with respect to every tensor with requiresGrad. */
  backward(grad?: Tensor): void {
    if (!backwardImpl) throw new Error('focusnet: autograd not loaded');
    backwardImpl(this, grad);
  }

  toString(): string {
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

let zeroFillImpl: ((t: Tensor) => void) | null = null;
/** @internal ops register the in-place zero fill used to materialize a pending-zero gradient */
export function setZeroFillImpl(fn: (t: Tensor) => void): void {
  zeroFillImpl = fn;
}

/** @internal fill a pending-zero gradient with zeros now and clear its flag */
export function materializeZero(g: Tensor): void {
  g.zeroPending = false;
  if (!g.disposed) zeroFillImpl!(g);
}

let backwardImpl: ((t: Tensor, g?: Tensor) => void) | null = null;
/** @internal */
export function setBackwardImpl(f: (t: Tensor, g?: Tensor) => void): void {
  backwardImpl = f;
}

// ---- creation -------------------------------------------------------------------------------

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** An uninitialized tensor (ops write into it). */
export function empty(shape: Shape, dtype: DType = 'f32'): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new OpError('tensor', `invalid shape ${shapeStr(shape)}`);
  }
  return new Tensor(Storage.alloc(numel(shape) * 4), shape, dtype);
}

export function tensor(
  values: ArrayLike<number> | Float32Array | Int32Array,
  shape?: Shape,
  opts: TensorOptions = {},
): Tensor {
  const dtype = opts.dtype ?? (values instanceof Int32Array ? 'i32' : 'f32');
  const shp = shape ?? [values.length];
  const n = numel(shp);
  if (n !== values.length) {
    throw new OpError('tensor', `${values.length} values do not fill shape ${shapeStr(shp)} (${n} elements)`);
  }
  if (dtype !== 'f32' && dtype !== 'i32') throw new OpError('tensor', `unknown dtype '${dtype}' (use 'f32' or 'i32')`);
  const t = empty(shp, dtype);
  if (n > 0) {
    let data: Float32Array | Int32Array;
    if (dtype === 'f32') data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    else data = values instanceof Int32Array ? values : Int32Array.from(values as ArrayLike<number>);
    gpu().write(t.slice('tensor'), data, true); // t's buffer is fresh from the pool
  }
  if (opts.requiresGrad) {
    if (dtype !== 'f32') throw new OpError('tensor', `requiresGrad needs dtype 'f32', got '${dtype}'`);
    t.requiresGrad = true;
  }
  return t;
}

export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  const n = numel(shape);
  const arr = opts.dtype === 'i32' ? new Int32Array(n).fill(value) : new Float32Array(n).fill(value);
  return tensor(arr, shape, opts);
}

export function zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: Shape, opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

// ---- scopes -----------------------------------------------------------------------------------

interface Scope {
  tensors: Tensor[];
  nodes: GradNode[];
}

const scopes: Scope[] = [];

function currentScope(): Scope | undefined {
  return scopes[scopes.length - 1];
}

/** @internal: autograd registers its nodes so scopes can release them */
export function registerNode(n: GradNode): void {
  currentScope()?.nodes.push(n);
}

type Kept = Tensor | Tensor[] | Record<string, Tensor> | void | undefined | number | null;

/** Every tensor in a returned value: a tensor, or arrays / plain objects of them, nested. */
function collect(result: unknown, into: Set<Tensor>, seen = new Set<object>()): void {
  if (result instanceof Tensor) into.add(result);
  else if (result && typeof result === 'object' && !seen.has(result)) {
    seen.add(result);
    if (Array.isArray(result)) for (const r of result) collect(r, into, seen);
    else if (Object.getPrototypeOf(result) === Object.prototype || result instanceof Map) {
      for (const v of result instanceof Map ? result.values() : Object.values(result)) collect(v, into, seen);
    }
  }
}

/**
 * Run `fn`; afterwards dispose every tensor created inside it and release every
 * autograd node recorded inside it, except the tensors it returns (and the
 * graph that produced them), which move to the enclosing scope.
 */
export function scope<T extends Kept | unknown>(fn: () => T): T {
  const s: Scope = { tensors: [], nodes: [] };
  scopes.push(s);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    closeScope(s, new Set());
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('focusnet: scope(fn) takes a synchronous function');
  const kept = new Set<Tensor>();
  collect(result, kept);
  closeScope(s, kept);
  return result;
}

function closeScope(s: Scope, kept: Set<Tensor>): void {
  const parent = currentScope();
  // Nodes reachable from kept tensors stay alive (a returned loss can still be backpropagated).
  const liveNodes = new Set<GradNode>();
  const stack: GradNode[] = [];
  for (const t of kept) if (t.node) stack.push(t.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (liveNodes.has(n)) continue;
    liveNodes.add(n);
    for (const i of n.inputs) if (i.node) stack.push(i.node);
  }
  for (const n of s.nodes) {
    if (liveNodes.has(n)) parent?.nodes.push(n);
    else if (!n.released) n.release();
  }
  for (const t of s.tensors) {
    if (kept.has(t) || keptForever.has(t)) {
      if (!keptForever.has(t)) parent?.tensors.push(t);
    } else t.dispose();
  }
}

const keptForever = new WeakSet<Tensor>();

/** Exempt a tensor from disposal by any enclosing scope (parameters, gradients, running stats). */
export function keep<T extends Tensor>(t: T): T {
  keptForever.add(t);
  return t;
}

export function isKept(t: Tensor): boolean {
  return keptForever.has(t);
}
