import { engine } from './engine.ts';
import { StateError } from './errors.ts';
import { Tensor } from './tensor.ts';

/** Anything a scope callback may return: tensors inside arrays and plain objects are kept alive. */
export type Keepable = Tensor | readonly Keepable[] | { readonly [key: string]: Keepable } | number | string | boolean | null | undefined | void;

/**
 * Runs `fn` and then disposes every tensor it created, except those it returns (at any depth of
 * arrays/objects) and those marked with `keep()`. Like `tf.tidy`: wrap a training step in it and the
 * step's temporaries are released on every device. Scopes nest; returned tensors move to the parent.
 * `fn` must be synchronous (a promise would outlive the scope).
 */
export function scope<T extends Keepable>(fn: () => T): T {
  const created = new Set<Tensor>();
  engine.scopes.push(created);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new StateError('scope: the callback must be synchronous (it returned a Promise)');
  } catch (error) {
    closeScope(created, new Set());
    throw error;
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors);
  closeScope(created, survivors);
  return result;
}

/**
 * Pops the scope and disposes what neither survives nor is kept — except tensors the tape adopts
 * because a surviving result's gradient graph still needs them (the tape frees those after backward).
 */
function closeScope(created: Set<Tensor>, returned: Set<Tensor>): void {
  engine.scopes.pop();
  const survivors = new Set<Tensor>();
  for (const t of created) if (returned.has(t) || t.kept) survivors.add(t);
  for (const t of returned) survivors.add(t);
  const adopted = new Set<Tensor>();
  for (const listener of engine.scopeListeners) {
    for (const t of listener({ depth: engine.scopes.length, created, survivors })) adopted.add(t);
  }
  const parent = engine.scopes[engine.scopes.length - 1];
  for (const t of created) {
    if (survivors.has(t)) parent?.add(t);
    else if (!adopted.has(t) && !t.isDisposed) t.dispose();
  }
}

/** Exempts a tensor from disposal by every enclosing scope (parameters, optimizer state). */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) collectTensors(v, into);
}
