// The browser's side of runtime.node.ts: a page has no environment variables and no Node built-ins.

/** Always undefined in a browser (there is no environment). */
export function envVar(_name: string): string | undefined {
  return undefined;
}

/** Always undefined in a browser. */
export function nodeBuiltin<T>(_id: string): T | undefined {
  return undefined;
}

/** A page cannot set V8 flags: always false. */
export function setV8Flags(_flags: string): boolean {
  return false;
}

/** A page cannot force a collection: always null. */
export function fullGarbageCollector(): (() => void) | null {
  return null;
}
