// Module: parameters, buffers and child modules registered by name in order,
// train/eval mode, and PyTorch-named state dicts (torchvision's dotted keys:
// `layer1.0.conv1.weight`, `bn1.running_mean`, ...).
//
// Parameters and buffers are kept (exempt from scopes) and owned by the
// module; `dispose()` frees them. Loading a state dict copies data into the
// existing tensors on the GPU, so a loaded model keeps its tensors (and an
// optimizer that already packed them into an arena keeps working).

import { Tensor, tensor, keep, shapeStr, numel, Shape } from '../tensor/index.js';
import { gpu } from '../gpu/index.js';
import { OpError } from '../errors.js';

export interface LoadStateDictOptions {
  /** every key must match (default true); shape and dtype must always match */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missing: string[];
  unexpected: string[];
}

export abstract class Module {
  /** training mode (batchnorm uses batch statistics, dropout drops) */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly childModules = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  // ---- registration ------------------------------------------------------------------------

  /** Register a trainable parameter created from host data (kept, requiresGrad). */
  protected addParameter(name: string, data: Float32Array, shape: Shape): Tensor {
    this.checkName(name);
    const t = keep(tensor(data, shape, { requiresGrad: true }));
    this.ownParams.set(name, t);
    return t;
  }

  /** Register a buffer (kept, no gradient): running statistics, counters. */
  protected addBuffer(name: string, data: Float32Array | Int32Array, shape: Shape): Tensor {
    this.checkName(name);
    const t = keep(tensor(data, shape));
    this.ownBuffers.set(name, t);
    return t;
  }

  /** Register a child module under `name` (its keys get the prefix `name.`). */
  protected addModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    if (!(m instanceof Module)) throw new OpError('Module', `child '${name}' is not a Module`);
    this.childModules.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new OpError('Module', `invalid name '${name}' (non-empty, no dots)`);
    if (this.ownParams.has(name) || this.ownBuffers.has(name) || this.childModules.has(name)) {
      throw new OpError('Module', `'${name}' is already registered in ${this.constructor.name}`);
    }
  }

  // ---- traversal ---------------------------------------------------------------------------

  /** Direct children in registration order. */
  children(): [string, Module][] {
    return [...this.childModules];
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.childModules) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules(prefix)) {
      for (const [n, t] of m.ownParams) out.push([p ? `${p}.${n}` : n, t]);
    }
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [p, m] of this.namedModules(prefix)) {
      for (const [n, t] of m.ownBuffers) out.push([p ? `${p}.${n}` : n, t]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** Number of trainable scalars. */
  numParameters(): number {
    let n = 0;
    for (const t of this.parameters()) n += t.size;
    return n;
  }

  /** Give every parameter and buffer its state-dict key as `name` (for error messages). */
  nameTensors(): this {
    for (const [k, t] of this.namedParameters()) t.name = k;
    for (const [k, t] of this.namedBuffers()) t.name = k;
    return this;
  }

  // ---- mode --------------------------------------------------------------------------------

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  // ---- state dicts -------------------------------------------------------------------------

  /** Hook run on every module before its state is read (bring lazy buffers up to date). */
  protected syncState(): void {}

  /**
   * Parameters and buffers by torchvision's dotted names, in PyTorch's order
   * (a module's own parameters, then its buffers, then its children). The
   * tensors are the module's own: read or save them, don't dispose them.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [p, m] of this.namedModules()) {
      m.syncState();
      for (const [n, t] of m.ownParams) out[p ? `${p}.${n}` : n] = t;
      for (const [n, t] of m.ownBuffers) out[p ? `${p}.${n}` : n] = t;
    }
    return out;
  }

  /** Hook run on every module after its state was loaded. */
  protected loadedState(): void {}

  // ---- random state ------------------------------------------------------------------------

  /** How many random draws this module has made (dropout's mask counter); null if it draws none. */
  protected draws(): number | null {
    return null;
  }

  /** Set the draw counter (modules whose draws() is not null override this). */
  protected setDraws(_count: number): void {}

  /**
   * The draw counters of the modules that use randomness (dropout), by module name. Not part
   * of the state dict (torchvision's keys stay as they are); a checkpoint saves it beside, as
   * PyTorch checkpoints save the RNG state, so that a resumed run repeats the uninterrupted one.
   */
  randomState(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [p, m] of this.namedModules()) {
      const d = m.draws();
      if (d !== null) out[p] = d;
    }
    return out;
  }

  /** Restore what randomState() returned; a name that is not a drawing module throws. */
  loadRandomState(state: Record<string, number>): void {
    const mods = new Map(this.namedModules());
    for (const [name, count] of Object.entries(state)) {
      const m = mods.get(name);
      if (!m || m.draws() === null) throw new OpError('loadRandomState', `'${name}' is not a module that draws random numbers in ${this.constructor.name}`);
      if (!Number.isSafeInteger(count) || count < 0) throw new OpError('loadRandomState', `'${name}': draw count must be a non-negative integer, got ${count}`);
      m.setDraws(count);
    }
  }

  /**
   * Copy `dict`'s tensors into this module's parameters and buffers (on the GPU).
   * With `strict` (default) missing or unexpected keys are an error; a shape or
   * dtype mismatch always is. The error lists every offending key.
   */
  loadStateDict(dict: Record<string, Tensor>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing: string[] = [];
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    for (const [k, dst] of Object.entries(own)) {
      const src = dict[k];
      if (src === undefined) {
        missing.push(k);
        continue;
      }
      if (!(src instanceof Tensor) || src.disposed) {
        mismatched.push(`${k}: not a live Tensor`);
        continue;
      }
      const sameShape = src.shape.length === dst.shape.length && src.shape.every((d, i) => d === dst.shape[i]);
      if (!sameShape || src.dtype !== dst.dtype) {
        mismatched.push(`${k}: checkpoint ${shapeStr(src.shape)} ${src.dtype}, model ${shapeStr(dst.shape)} ${dst.dtype}`);
      }
    }
    for (const k of Object.keys(dict)) if (!(k in own)) unexpected.push(k);
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      const parts: string[] = [];
      const list = (title: string, ks: string[]) => {
        if (!ks.length) return;
        const shown = ks.slice(0, 40).map((k) => `    ${k}`);
        if (ks.length > 40) shown.push(`    ... and ${ks.length - 40} more`);
        parts.push(`  ${title} (${ks.length}):\n${shown.join('\n')}`);
      };
      list('missing keys', missing);
      list('unexpected keys', unexpected);
      list('shape or dtype mismatches', mismatched);
      throw new OpError('loadStateDict', `state dict does not match ${this.constructor.name}:\n${parts.join('\n')}`);
    }
    const g = gpu();
    for (const [k, dst] of Object.entries(own)) {
      const src = dict[k];
      if (src === undefined || src === dst) continue;
      const bytes = numel(dst.shape) * 4;
      if (bytes > 0) g.copy(src.slice('loadStateDict'), dst.slice('loadStateDict'), bytes);
    }
    for (const [, m] of this.namedModules()) m.loadedState();
    return { missing, unexpected };
  }

  /** Free every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m.ownParams.values()) t.dispose();
      for (const t of m.ownBuffers.values()) t.dispose();
    }
  }

  /** Same as `forward` (reads like PyTorch's `module(x)`). */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }
}
