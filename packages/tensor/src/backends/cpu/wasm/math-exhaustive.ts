// Checks every one of the 2^32 float32 inputs of each wasm transcendental kernel against the
// TypeScript reference (about 6 minutes on the 2-core VM): the basis of wasm-math.test.ts's claim
// that no input differs. Run with `node scripts/wasm-math-exhaustive.mjs`; exits 1 on a mismatch.
import { MATH_OPS, type MathModuleExports, buildMathModule } from './math-module.ts';
import { mathMismatches } from './math-reference.ts';
import { CHUNK } from './wasm-math.ts';

const WA = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: object } };
}).WebAssembly;

const exports = new WA.Instance(new WA.Module(buildMathModule()), {}).exports as MathModuleExports;
const n = CHUNK / 2;
const bits = new Uint32Array(exports.memory.buffer, 0, n);
const x = new Float32Array(exports.memory.buffer, 0, n);
const out = new Float32Array(exports.memory.buffer, 4 * n, n);
let failed = false;
for (const op of MATH_OPS) {
  const started = Date.now();
  const bad: string[] = [];
  for (let start = 0; start < 2 ** 32; start += n) {
    for (let i = 0; i < n; i++) bits[i] = start + i;
    exports[op](0, 4 * n, n);
    if (bad.length < 10) bad.push(...mathMismatches(op, x, out));
  }
  console.log(`${op}: ${bad.length === 0 ? 'all 2^32 inputs equal the reference' : bad.join('\n  ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  failed ||= bad.length > 0;
}
process.exitCode = failed ? 1 : 0;
