// Reverse-mode autodiff. Ops call `record()` after launching their forward
// kernel; it attaches a GradNode to the output when gradients are enabled and
// some input requires them. Tensors saved for backward are held by reference
// (the storage is retained) and released as soon as backward has used them, or
// when the scope that recorded the node ends without a backward.

import { Tensor, GradNode, registerNode, keep, shapeStr, full, accumulate, addSameSize, copy, assign } from '../tensor/index.js';
import { OpError } from '../errors.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` without recording the autograd tape. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  let res: T;
  try {
    res = fn();
  } catch (e) {
    gradEnabled = prev;
    throw e;
  }
  if (res instanceof Promise) {
    return res.finally(() => {
      gradEnabled = prev;
    }) as T;
  }
  gradEnabled = prev;
  return res;
}

/** Whether an op over these inputs must record a node. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Attach a backward rule to `out`. `saved` tensors are retained until the
 * rule has run; the rule receives views of them (same storage).
 */
export function record(
  op: string,
  inputs: Tensor[],
  out: Tensor,
  saved: Tensor[],
  rule: (grad: Tensor, saved: Tensor[]) => (Tensor | null)[],
): void {
  if (!needsGrad(...inputs)) return;
  const held = saved.map((t) => {
    const v = new Tensor(t.storage!.retain(), t.shape, t.dtype);
    keep(v); // lifetime managed by the node, not by scopes
    return v;
  });
  const node: GradNode = {
    op,
    inputs,
    released: false,
    backward: (g) => rule(g, held),
    freeSaved() {
      for (const h of held) h.dispose();
      held.length = 0;
    },
    release(cascade = true) {
      if (this.released) return;
      this.released = true;
      this.freeSaved();
      unref(inputs, cascade);
    },
  };
  for (const i of inputs) if (i.node) i.graphRefs++;
  out.requiresGrad = true;
  out.node = node;
  registerNode(node);
}

/**
 * A node was released: its inputs lose a user. An input that is disposed and has no
 * users left can never be backpropagated through, so its node is released as well
 * (iteratively: a long chain must not overflow the stack).
 */
function unref(inputs: readonly Tensor[], cascade: boolean): void {
  const stack = [...inputs];
  while (stack.length) {
    const t = stack.pop()!;
    if (!t.node) continue;
    t.graphRefs--;
    const n = t.node;
    if (cascade && t.disposed && t.graphRefs === 0 && !n.released) {
      n.released = true;
      // release without recursing: its own inputs are handled by this loop
      n.freeSaved();
      stack.push(...n.inputs);
    }
  }
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative post-order DFS
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (i === 0) {
      if (seen.has(t)) {
        stack.pop();
        continue;
      }
      seen.add(t);
    }
    const inputs = t.node ? t.node.inputs : [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) stack.push([child, 0]);
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

// The gradients backward() seeds itself with (ones, for a scalar root): a rule that only scales
// by its incoming gradient can skip the dispatch when that gradient is one of these.
const unitSeeds = new WeakSet<Tensor>();
/** True when `g` is backward()'s own seed, a tensor of ones nobody else can write. */
export function isUnitSeed(g: Tensor): boolean {
  return unitSeeds.has(g);
}

/** The reverse pass behind Tensor.backward() (installed by src/api.ts through installEngine). */
export function backward(root: Tensor, seed?: Tensor): void {
  if (root.disposed) throw new OpError('backward', 'called on a disposed tensor');
  if (!seed && root.size !== 1) {
    throw new OpError('backward', `needs a scalar (single-element) tensor, got shape ${shapeStr(root.shape)}; reduce it first (ops.sum / ops.mean)`);
  }
  if (!root.requiresGrad) throw new OpError('backward', 'the tensor does not require grad (no input had requiresGrad, or it was computed under noGrad)');
  if (seed && (seed.disposed || seed.dtype !== 'f32')) {
    throw new OpError('backward', `the gradient must be a live f32 tensor, got ${seed.disposed ? 'a disposed tensor' : `dtype ${seed.dtype}`}`);
  }
  if (seed && (seed.size !== root.size)) {
    throw new OpError('backward', `gradient shape ${shapeStr(seed.shape)} does not match tensor shape ${shapeStr(root.shape)}`);
  }
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    const order = topoOrder(root);
    // Refuse before touching any gradient: a freed node anywhere would leave .grad half-updated.
    for (const t of order) {
      if (t.node && t.node.released) {
        throw new OpError('backward', `the graph through '${t.node.op}' was already freed (backward called twice, or the scope that built it has ended); run the forward pass again to backpropagate again`);
      }
    }
    const grads = new Map<Tensor, Tensor>();
    // The user's seed is shared, not copied (rules never write into their incoming gradient;
    // a leaf copies a shared gradient before keeping it). The implicit seed is marked as 1.
    let rootGrad: Tensor;
    if (seed) rootGrad = seed.detachedView(root.shape);
    else {
      rootGrad = full(root.shape, 1);
      unitSeeds.add(rootGrad);
    }
    grads.set(root, rootGrad);
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.node;
      if (!node) {
        // a leaf: accumulate into .grad (gradSlot: reading .grad would materialize a
        // pending zero). A gradient an optimizer marked zero-pending is overwritten by a
        // buffer copy instead: 0 + g == g, and a copy is cheaper than a read-add-write.
        const slot = t.gradSlot;
        if (slot && !slot.disposed) {
          if (slot.zeroPending) {
            if (slot.size !== g.size) throw new OpError('backward', `gradient of ${shapeStr(g.shape)} does not fit .grad ${shapeStr(slot.shape)}`);
            if (g.size > 0) assign(slot, g);
            slot.zeroPending = false;
          } else accumulate(slot, g);
          g.dispose();
        } else {
          const own = g.storage!.refs > 1 ? copy(g) : g;
          if (own !== g) g.dispose();
          t.grad = keep(own.shape.length === t.shape.length && own.shape.every((d, k) => d === t.shape[k]) ? own : reshapeOwned(own, t.shape));
        }
        continue;
      }
      const ins = node.backward(g);
      g.dispose();
      // Free what was saved; the released node stays on the tensor so that a second
      // backward through it throws instead of silently treating `t` as a leaf.
      node.release(false);
      for (let k = 0; k < node.inputs.length; k++) {
        const inp = node.inputs[k];
        const gi = ins[k];
        if (!gi) continue;
        if (!inp.requiresGrad) {
          gi.dispose();
          continue;
        }
        const prevG = grads.get(inp);
        if (prevG) {
          grads.set(inp, addSameSize(prevG, gi));
          prevG.dispose();
          gi.dispose();
        } else grads.set(inp, gi);
      }
    }
    for (const g of grads.values()) g.dispose();
  } finally {
    gradEnabled = prev;
  }
}

function reshapeOwned(t: Tensor, shape: readonly number[]): Tensor {
  const v = t.detachedView(shape);
  t.dispose();
  return v;
}

