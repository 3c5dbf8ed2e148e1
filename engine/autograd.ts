/**
 * Reverse-mode autograd. An op that has an input requiring grad records a `GradNode`: its
 * parents (the inputs' nodes, or leaf tensors), the tensors its backward rule needs (retained
 * until backward has run), and the rule itself. `backward(loss)` walks the graph in reverse
 * topological order, accumulates gradients into leaves' `.grad`, and frees each node's saved
 * tensors as soon as its rule has run.
 */
import { alias, disownGraphNode, keep, ownGraphNode, scope, Tensor } from "./tensor.ts";

type Parent = GradNode | Tensor | null;
/** Gradients of the inputs, in input order; null where an input needs none. */
export type BackwardRule = (grad: Tensor) => (Tensor | null)[];

/** One token per running noGrad/noGradAsync, innermost last: grad is on when it is empty. */
const noGradStack: object[] = [];
/** noGradAsync calls an out-of-order end removed from the stack: they fail when they end. */
const interleaved = new WeakSet<object>();

export function isGradEnabled(): boolean {
  return noGradStack.length === 0;
}

function enter(): object {
  const token = {};
  noGradStack.push(token);
  return token;
}

function leave(token: object): void {
  if (noGradStack.at(-1) === token && !interleaved.has(token)) {
    noGradStack.pop();
    return;
  }
  // Two noGradAsync calls overlapped: whichever ends first would switch recording back on (or
  // leave it off for good) under the other. Drop both and fail loudly in each.
  const i = noGradStack.indexOf(token);
  if (i >= 0) { for (const later of noGradStack.splice(i)) interleaved.add(later); }
  throw new Error(
    "noGradAsync: calls ended out of order (two overlapped; await one before starting the next)",
  );
}

/** Runs `fn` without recording the graph (evaluation, optimiser updates, backward rules). */
export function noGrad<T>(fn: () => T): T {
  const token = enter();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    noGradStack.pop(); // synchronous: nothing can have run in between
    throw e;
  }
  leave(token);
  if (result instanceof Promise) throw new Error("noGrad(fn) got an async fn: use noGradAsync");
  return result;
}

/**
 * `noGrad` for async work. The setting is global while `fn` runs, so calls must nest like
 * calls (never two at once, e.g. under Promise.all, nor beside async work that records a
 * graph); one that ends out of order throws.
 */
export async function noGradAsync<T>(fn: () => Promise<T>): Promise<T> {
  const token = enter();
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    leave(token);
    throw e;
  }
  leave(token);
  return result;
}

export class GradNode {
  #saved: Tensor[];
  #rule: BackwardRule | undefined;

  constructor(
    readonly op: string,
    readonly parents: readonly Parent[],
    saved: Tensor[],
    rule: BackwardRule,
  ) {
    this.#saved = saved.map((t) => t.retain());
    this.#rule = rule;
    ownGraphNode(this);
  }

  run(grad: Tensor): (Tensor | null)[] {
    if (!this.#rule) throw new Error(`backward through ${this.op} a second time`);
    return this.#rule(grad);
  }

  /** Frees the saved tensors; the node can no longer run. */
  dispose(): void {
    for (const t of this.#saved) t.release();
    this.#saved = [];
    this.#rule = undefined;
    disownGraphNode(this);
  }
}

/** True when an op on these inputs must record a node. */
export function needsGrad(inputs: readonly (Tensor | undefined)[]): boolean {
  return noGradStack.length === 0 && inputs.some((t) => t?.requiresGrad);
}

/**
 * Records `output = op(inputs)` for backward. `saved` are retained until the node runs;
 * the rule returns one gradient (or null) per input.
 */
export function record(
  op: string,
  inputs: readonly (Tensor | undefined)[],
  output: Tensor,
  saved: Tensor[],
  rule: BackwardRule,
): Tensor {
  if (!needsGrad(inputs)) return output;
  const parents = inputs.map((t) => (t?.requiresGrad ? t.node ?? t : null));
  output.requiresGrad = true;
  output.node = new GradNode(op, parents, saved, rule);
  return output;
}

/** Marks a tensor as a leaf that accumulates `.grad`. */
export function requireGrad<T extends Tensor>(t: T): T {
  t.requiresGrad = true;
  return t;
}

type Accumulate = (a: Tensor, b: Tensor) => Tensor;

/**
 * Backpropagates from `root` (seeded with `seed`, or ones for a scalar) into every leaf that
 * requires grad. `add` sums gradient contributions (passed in to keep this file op-free).
 */
export function backward(root: Tensor, seed: Tensor, add: Accumulate): void {
  if (!root.node) throw new Error("backward(): the tensor does not depend on any parameter");
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  // Iterative DFS post-order: deep nets would overflow a recursive walk.
  const stack: [GradNode, number][] = [[root.node, 0]];
  seen.add(root.node);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.parents.length) {
      top[1]++;
      const p = node.parents[i];
      if (p instanceof GradNode && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  const grads = new Map<GradNode, Tensor>([[root.node, alias(seed)]]);
  noGrad(() => {
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k];
      const g = grads.get(node);
      grads.delete(node);
      if (!g) {
        node.dispose();
        continue;
      }
      // The rule's temporaries die with this scope; the gradients it returns escape it.
      const inGrads = scope(() => node.run(g));
      g.dispose();
      node.dispose();
      node.parents.forEach((p, i) => {
        const gi = inGrads[i];
        if (!gi) return;
        if (!p) {
          gi.dispose();
          return;
        }
        if (p instanceof GradNode) {
          const prev = grads.get(p);
          grads.set(p, prev ? sumInto(prev, gi, add) : gi);
        } else {
          p.grad = keep(p.grad ? sumInto(p.grad, gi, add) : gi);
        }
      });
    }
  });
}

function sumInto(a: Tensor, b: Tensor, add: Accumulate): Tensor {
  const s = add(a, b);
  a.dispose();
  b.dispose();
  return s;
}
