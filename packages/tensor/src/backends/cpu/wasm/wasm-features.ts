// What the JS engine offers the wasm kernels, probed once: WebAssembly SIMD (without it the wasm
// backend runs the reference loops) and relaxed-SIMD fused multiply-add (turned on in Node 20, where
// V8 has it behind a flag). Each probe validates a one-instruction module built with the same
// assembler as the kernels.

import { DEFAULT_KERNEL_SHAPE, type KernelShape } from './matmul-module.ts';
import { ModuleBuilder } from './wasm-writer.ts';
import { envVar, setV8Flags } from '../../../node-runtime.ts';

/** The part of the WebAssembly JS API the probes use, typed locally since the project's lib has no DOM. */
interface WasmValidator {
  validate(bytes: Uint8Array): boolean;
}

const wasmApi: WasmValidator | undefined = (globalThis as { WebAssembly?: WasmValidator }).WebAssembly;

let simdSupported: boolean | undefined;

/**
 * Whether this JS engine validates WebAssembly SIMD, tested once on a one-instruction module
 * (f32x4.add) built with the same assembler as the kernels.
 */
export function wasmSimdAvailable(): boolean {
  if (simdSupported === undefined) {
    simdSupported = false;
    if (wasmApi !== undefined) {
      try {
        const probe = new ModuleBuilder(0);
        probe.addFunction('add', ['v128', 'v128'], ['v128'], (f) => {
          f.get(0).get(1).f32x4Add();
        });
        simdSupported = wasmApi.validate(probe.toBytes());
      } catch {
        simdSupported = false;
      }
    }
  }
  return simdSupported;
}

let fmaSupported: boolean | undefined;

/**
 * Whether the kernels may use f32x4.relaxed_madd (see KernelShape.fma), tested once like SIMD.
 * Node 20's V8 has relaxed SIMD (a finished WebAssembly feature, on by default from Node 22) behind
 * the flag --experimental-wasm-relaxed-simd; where the first probe fails in Node, the flag is set at
 * run time through node:v8, which only adds instructions to the validator, and the probe is repeated.
 * `TINYTAPE_WASM_FMA=0` keeps the mul-then-add kernels (for comparisons).
 */
export function wasmFmaAvailable(): boolean {
  if (fmaSupported === undefined) {
    fmaSupported = false;
    if (wasmApi !== undefined && wasmSimdAvailable() && envVar('TINYTAPE_WASM_FMA') !== '0') {
      try {
        const probe = new ModuleBuilder(0);
        probe.addFunction('madd', ['v128', 'v128', 'v128'], ['v128'], (f) => {
          f.get(0).get(1).get(2).f32x4RelaxedMadd();
        });
        const bytes = probe.toBytes();
        fmaSupported = wasmApi.validate(bytes);
        if (!fmaSupported) {
          setV8Flags('--experimental-wasm-relaxed-simd');
          fmaSupported = wasmApi.validate(bytes);
        }
      } catch {
        fmaSupported = false;
      }
    }
  }
  return fmaSupported;
}

/** The block shape of the shared instance: the default, with FMA where the engine has it. */
export function backendKernelShape(): KernelShape {
  return { ...DEFAULT_KERNEL_SHAPE, fma: wasmFmaAvailable() };
}
