// Node's side of the few things the backends read from their runtime: environment variables and
// built-in modules, the latter through `process.getBuiltinModule` (Node >= 20.16) so no `node:`
// import is needed even here.

/** An environment variable's value; undefined when unset. */
export function envVar(name: string): string | undefined {
  return process.env[name];
}

/** A Node built-in module (e.g. 'node:v8'), typed by the caller as far as it uses it. */
export function nodeBuiltin<T>(id: string): T | undefined {
  try {
    return process.getBuiltinModule(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/** Sets V8 flags at run time (node:v8's setFlagsFromString); false when that is not possible. */
export function setV8Flags(flags: string): boolean {
  const v8 = nodeBuiltin<{ setFlagsFromString?: (flags: string) => void }>('node:v8');
  if (v8?.setFlagsFromString === undefined) return false;
  v8.setFlagsFromString(flags);
  return true;
}

/**
 * A function that runs a full garbage collection, or null where none can be had: V8's `gc`, exposed
 * after start-up through a flag, which only affects contexts created afterwards (hence node:vm).
 */
export function fullGarbageCollector(): (() => void) | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as () => void;
  const vm = nodeBuiltin<{ runInNewContext(code: string): unknown }>('node:vm');
  if (vm === undefined || !setV8Flags('--expose-gc')) return null;
  const gc = vm.runInNewContext('gc');
  return typeof gc === 'function' ? (gc as () => void) : null;
}
