import type { Backend, MatmulParams } from './backend.ts';
import type { Device } from './device.ts';

/** Time spent in one kernel (or one kernel variant) while a profile ran. */
export interface KernelTiming {
  /** e.g. `matmul nt [32,256]x[256,256]` (`nn+=` when accumulating into out), `binary add`, `unary tanh`. */
  kernel: string;
  calls: number;
  /** Total milliseconds inside the kernel calls. */
  ms: number;
}

/** A running profile of one device's kernels; `stop()` unhooks it and returns the timings. */
export interface Profile {
  /** Unhooks the backend and returns the timings, slowest first. */
  stop(): KernelTiming[];
}

// Kernels whose variants differ enough in cost to deserve their own rows.
const KEYED: Partial<Record<keyof Backend, (args: unknown[]) => string>> = {
  matmul: (args) => matmulKey(args[3] as MatmulParams),
  unary: (args) => `unary ${String(args[0])}`,
  scalar: (args) => `scalar ${String(args[0])}`,
  binary: (args) => `binary ${String(args[0])}`,
  binaryInPlace: (args) => `binaryInPlace ${String(args[0])}`,
  reduce: (args) => `reduce ${String(args[0])}`,
  runKernel: (args) => `kernel ${(args[0] as { name: string }).name}`,
};

// Bookkeeping calls that are not kernels.
const SKIP = new Set(['read', 'memory', 'destroy', 'flush', 'name']);

/**
 * Times every kernel call on `device` until `stop()`. On the CPU the time is the kernel's run time; on
 * WebGPU kernels only record commands, so the figures there are the host cost of issuing them (the GPU
 * runs later, asynchronously). Wall time outside all kernels is the front end: shape checks, the tape,
 * allocation bookkeeping, JavaScript glue. One profile per device at a time.
 */
export function startProfile(device: Device): Profile {
  const backend = device.backend as unknown as Record<string, unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  const rows = new Map<string, KernelTiming>();
  const ownBefore = Object.fromEntries(Object.getOwnPropertyNames(backend).map((n) => [n, true]));
  let depth = 0;
  for (const name of methodNames(backend)) {
    const fn = backend[name];
    if (typeof fn !== 'function' || SKIP.has(name)) continue;
    const original = fn as (...args: unknown[]) => unknown;
    originals.set(name, original);
    const keyOf = KEYED[name as keyof Backend];
    backend[name] = function timed(this: unknown, ...args: unknown[]): unknown {
      // A kernel that calls another kernel is counted once, as the outer one.
      if (depth > 0) return original.apply(this, args);
      depth++;
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        depth--;
        const key = keyOf === undefined ? name : keyOf(args);
        const row = rows.get(key) ?? { kernel: key, calls: 0, ms: 0 };
        row.calls++;
        row.ms += ms;
        rows.set(key, row);
      }
    };
  }
  return {
    stop() {
      // Deleting the own property uncovers a prototype method again; an own method is put back.
      for (const [name, fn] of originals) {
        if (Object.prototype.hasOwnProperty.call(ownBefore, name)) backend[name] = fn;
        else delete backend[name];
      }
      originals.clear();
      return [...rows.values()].sort((a, b) => b.ms - a.ms);
    },
  };
}

/** Own and inherited method names (the WebGPU backend is a class, the CPU one an object literal). */
function methodNames(obj: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = obj; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const n of Object.getOwnPropertyNames(o)) if (n !== 'constructor') names.add(n);
  }
  return [...names];
}

/** How a matmul call is named in profiles and traces: transposes, accumulation, batch and shapes. */
export function matmulKey(p: MatmulParams): string {
  const kind = `${p.transA ? 't' : 'n'}${p.transB ? 't' : 'n'}`;
  const batch = p.batch > 1 ? `${p.batch}x` : '';
  return `matmul ${kind}${p.accumulate ? '+=' : ''} ${batch}[${p.m},${p.k}]x[${p.k},${p.n}]`;
}

/** The timings as a fixed-width table with each row's share of `wallMs` and the unaccounted rest. */
export function formatProfile(timings: readonly KernelTiming[], wallMs: number, maxRows = 25): string {
  const kernelMs = timings.reduce((s, t) => s + t.ms, 0);
  const pct = (ms: number) => `${((100 * ms) / wallMs).toFixed(1)}%`;
  const lines = [`${'kernel'.padEnd(44)} ${'calls'.padStart(8)} ${'ms'.padStart(10)} ${'µs/call'.padStart(9)} ${'share'.padStart(7)}`];
  for (const t of timings.slice(0, maxRows)) {
    lines.push(
      `${t.kernel.padEnd(44)} ${String(t.calls).padStart(8)} ${t.ms.toFixed(1).padStart(10)} ` +
        `${((1000 * t.ms) / t.calls).toFixed(1).padStart(9)} ${pct(t.ms).padStart(7)}`,
    );
  }
  const rest = timings.slice(maxRows).reduce((s, t) => s + t.ms, 0);
  if (rest > 0) lines.push(`${`(${timings.length - maxRows} more kernels)`.padEnd(44)} ${''.padStart(8)} ${rest.toFixed(1).padStart(10)} ${''.padStart(9)} ${pct(rest).padStart(7)}`);
  lines.push(`${'all kernels'.padEnd(44)} ${''.padStart(8)} ${kernelMs.toFixed(1).padStart(10)} ${''.padStart(9)} ${pct(kernelMs).padStart(7)}`);
  lines.push(`${'outside kernels (front end, tape, JS)'.padEnd(44)} ${''.padStart(8)} ${(wallMs - kernelMs).toFixed(1).padStart(10)} ${''.padStart(9)} ${pct(wallMs - kernelMs).padStart(7)}`);
  return lines.join('\n');
}
