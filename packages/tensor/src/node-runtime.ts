// What the backends read from Node when they run there, without importing Node modules statically:
// `process.getBuiltinModule` (Node >= 20.16) keeps every file loadable in browsers, where both
// functions below return undefined.

interface NodeLikeProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

const proc = (): NodeLikeProcess | undefined => (globalThis as { process?: NodeLikeProcess }).process;

/** An environment variable's value in Node; undefined when unset or outside Node. */
export function envVar(name: string): string | undefined {
  return proc()?.env?.[name];
}

/** A Node built-in module (e.g. 'node:v8'), typed by the caller as far as it uses it; undefined outside Node. */
export function nodeBuiltin<T>(id: string): T | undefined {
  try {
    return proc()?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}
