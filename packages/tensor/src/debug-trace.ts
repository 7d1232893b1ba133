/**
 * The kernel trace: with `TINYTAPE_DEBUG=1` in the environment, every kernel prints one line as it
 * runs, naming the backend, the kernel and the shapes it works on, so a learner can watch a training
 * step execute (as tinygrad's `DEBUG=1` does). Lines go to the console's error stream, leaving
 * standard output to the program. The switch is read when a device is created.
 *
 *     [tinytape wasm] matmul nt [32,28]x[28,64]
 *     [tinytape wasm] binary add [32,64]
 *     [tinytape wasm] unary tanh [2048]
 */
import type { AxisParams, Backend, BroadcastLayout, CopyParams, GatherParams, MatmulParams } from './backend.ts';
import type { CustomKernel } from './custom-kernel.ts';
import { envVar } from './node-runtime.ts';
import { matmulKey } from './profile.ts';

const dims = (shape: readonly number[]): string => `[${shape.join(',')}]`;
const axes = (p: AxisParams): string => `[${p.outer},${p.axis},${p.inner}] along axis 1`;
const rows = (p: GatherParams): string => `${p.numIndices} rows of [${p.tableRows},${p.rowSize}]`;

/** One line per kernel, from the kernel's arguments (the same order as in Backend). */
const DESCRIBE: { readonly [K in keyof Backend]?: (...args: never[]) => string } = {
  fill: (_out: unknown, size: number, value: number) => `fill [${size}] with ${value}`,
  unary: (op: string, _x: unknown, _out: unknown, size: number) => `unary ${op} [${size}]`,
  scalar: (op: string, _x: unknown, s: number, _out: unknown, size: number) => `scalar ${op} [${size}] ${s}`,
  binary: (op: string, _a: unknown, _b: unknown, _out: unknown, l: BroadcastLayout) => `binary ${op} ${dims(l.outShape)}`,
  binaryInPlace: (op: string, _a: unknown, _b: unknown, l: BroadcastLayout) => `binaryInPlace ${op} ${dims(l.outShape)}`,
  axpy: (_y: unknown, _x: unknown, alpha: number, size: number) => `axpy [${size}] alpha ${alpha}`,
  matmul: (_a: unknown, _b: unknown, _out: unknown, p: MatmulParams) => matmulKey(p),
  reduce: (op: string, _x: unknown, _out: unknown, p: AxisParams) => `reduce ${op} ${axes(p)}`,
  argmax: (_x: unknown, _out: unknown, p: AxisParams) => `argmax ${axes(p)}`,
  copy: (_src: unknown, _dst: unknown, p: CopyParams) => `copy ${dims(p.shape)}`,
  gather: (_t: unknown, _i: unknown, _out: unknown, p: GatherParams) => `gather ${rows(p)}`,
  scatterAdd: (_s: unknown, _i: unknown, _out: unknown, p: GatherParams) => `scatterAdd ${rows(p)}`,
  oneHot: (_i: unknown, _out: unknown, n: number, depth: number) => `oneHot [${n}] depth ${depth}`,
  softmax: (_x: unknown, _out: unknown, r: number, c: number, log: boolean) => `${log ? 'logSoftmax' : 'softmax'} [${r},${c}]`,
  crossEntropy: (_l: unknown, _t: unknown, _out: unknown, r: number, c: number) => `crossEntropy [${r},${c}]`,
  crossEntropyBackward: (_l: unknown, _t: unknown, _g: unknown, _out: unknown, r: number, c: number) => `crossEntropyBackward [${r},${c}]`,
  cast: (_x: unknown, _out: unknown, size: number, from: string, to: string) => `cast ${from} -> ${to} [${size}]`,
  runKernel: (k: CustomKernel, _i: unknown, _o: unknown, sizes: number[], params: Record<string, number>) =>
    `kernel ${k.name} -> ${sizes.map((n) => `[${n}]`).join(', ')} ${JSON.stringify(params)}`,
};

/** Whether `TINYTAPE_DEBUG` asks for the trace (any value but empty and `0`). */
export function kernelTraceEnabled(): boolean {
  const value = envVar('TINYTAPE_DEBUG');
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * Makes `backend` print each kernel call (see the file comment) when `enabled`, by default when
 * `TINYTAPE_DEBUG` is set; otherwise returns it untouched, so the trace costs nothing when off.
 */
export function traceKernels<B extends Backend>(backend: B, enabled = kernelTraceEnabled(), print: (line: string) => void = console.error): B {
  if (!enabled) return backend;
  const table = backend as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, describe] of Object.entries(DESCRIBE)) {
    const kernel = table[name]!;
    const describeArgs = describe as (...args: unknown[]) => string;
    table[name] = function traced(this: unknown, ...args: unknown[]): unknown {
      print(`[tinytape ${backend.name}] ${describeArgs(...args)}`);
      return kernel.apply(this, args);
    };
  }
  return backend;
}
