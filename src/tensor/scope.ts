// Scopes: `scope(fn)` collects every tensor created and every autograd node recorded while `fn`
// runs; when `fn` returns, the tensors it returns (directly, or inside arrays, plain objects and
// maps) move to the enclosing scope with the nodes they were computed from, and everything else
// is released (nodes) or disposed (tensors), except tensors marked `keep()` (parameters,
// gradients, running statistics). If `fn` throws, everything is released.

import type { Tensor, GradNode } from './tensor.js';
import { gpu, hasGpu } from '../gpu/index.js';

interface Scope {
  tensors: Tensor[];
  nodes: GradNode[];
}

const scopes: Scope[] = [];

function currentScope(): Scope | undefined {
  return scopes[scopes.length - 1];
}

/** @internal every new tensor registers with the innermost open scope; false when none is open */
export function trackTensor(t: Tensor): boolean {
  const s = currentScope();
  if (!s) return false;
  s.tensors.push(t);
  return true;
}

/** @internal autograd registers its nodes so scopes can release them */
export function registerNode(n: GradNode): void {
  currentScope()?.nodes.push(n);
}

/** Marks Tensor instances (set on Tensor.prototype), so this module needs no runtime import of the class. */
export const TENSOR = Symbol.for('focusnet.Tensor');

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[TENSOR] === true;
}

/** Every tensor in a returned value: a tensor, or arrays / plain objects / maps of them, nested. */
function collect(result: unknown, into: Set<Tensor>, seen = new Set<object>()): void {
  if (isTensor(result)) into.add(result);
  else if (result && typeof result === 'object' && !seen.has(result)) {
    seen.add(result);
    if (Array.isArray(result)) for (const r of result) collect(r, into, seen);
    else if (Object.getPrototypeOf(result) === Object.prototype || result instanceof Map) {
      for (const v of result instanceof Map ? result.values() : Object.values(result)) collect(v, into, seen);
    }
  }
}

/**
 * Run `fn`; afterwards dispose every tensor created inside it and release every autograd node
 * recorded inside it, except the tensors it returns (and the graph that produced them), which
 * move to the enclosing scope.
 */
export function scope<T>(fn: () => T): T {
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
  // the end of a step: a natural batch boundary (see src/gpu/batch.ts, BOUNDARY_MIN)
  if (scopes.length === 0 && hasGpu()) gpu().boundary();
  return result;
}

function closeScope(s: Scope, kept: Set<Tensor>): void {
  const parent = currentScope();
  // nodes reachable from kept tensors stay alive (a returned loss can still be backpropagated)
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
      if (keptForever.has(t)) continue;
      if (parent) parent.tensors.push(t);
      else t.setLoose(true); // returned from the outermost scope: nothing owns it now
    } else t.dispose();
  }
}

const keptForever = new WeakSet<Tensor>();

/** Exempt a tensor from disposal by any enclosing scope (parameters, gradients, running stats). */
export function keep<T extends Tensor>(t: T): T {
  keptForever.add(t);
  t.setLoose(false);
  return t;
}

export function isKept(t: Tensor): boolean {
  return keptForever.has(t);
}
