// What the backends read from their runtime (environment variables, V8 flags, garbage collection), in
// one place. The Node and browser variants live in platform/runtime.*.ts; in a browser each is a no-op.
export { envVar, setV8Flags, fullGarbageCollector } from '#platform/runtime';
