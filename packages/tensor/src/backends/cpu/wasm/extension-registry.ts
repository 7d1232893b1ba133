// The wasm module extensions registered so far (see wasm-extensions.ts), kept apart from the matmul
// host so that both it and the public registration function can import them without a cycle.
import { ValueError } from '../../../errors.ts';
import type { WasmModuleExtension } from './matmul-module.ts';

const extensions: WasmModuleExtension[] = [];
let generation = 0;

/** Adds an extension; the shared module is rebuilt with it on its next use. Throws on a duplicate name. */
export function addExtension(extension: WasmModuleExtension): void {
  if (extensions.some((e) => e.name === extension.name)) throw new ValueError(`registerWasmExtension: an extension named '${extension.name}' is already registered`);
  extensions.push(extension);
  generation++;
}

/** Every registered extension, in registration order. */
export function registeredExtensions(): readonly WasmModuleExtension[] {
  return extensions;
}

/** Advances on every registration: the shared instance compares it with the one it was built with. */
export function extensionGeneration(): number {
  return generation;
}
