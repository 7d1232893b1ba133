/**
 * What every WGSL kernel shares: the parameter block and binding declarations (`prelude`), the entry
 * point of a 1-D kernel (`MAIN_1D`), workgroup counts, and the encoding of numbers as parameter words.
 * Kernel files build their shader sources from these; context.ts dispatches them.
 */
import type { DType } from '../../dtype.ts';

/** Threads per workgroup of every 1-D kernel. */
export const WG = 256;
/** Bytes of parameters a kernel may use: 32 words (`array<vec4<u32>, 8>` in WGSL). */
export const PARAM_WORDS = 32;

/** How a dispatch uses a storage buffer: 'r' read-only, 'w' written only, 'rw' read and written. */
export type Access = 'r' | 'w' | 'rw';

/**
 * The WGSL every kernel starts with: the parameter block (`p(i)` is word i as u32, `pf`/`pi` as f32/i32)
 * followed by the storage bindings, numbered from 1 in the order the dispatch passes them.
 */
export function prelude(bindings: ReadonlyArray<readonly [name: string, access: Access, type: 'f32' | 'i32' | 'u32']>): string {
  let s = `struct Params { w: array<vec4<u32>, ${PARAM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> params: Params;
fn p(i: u32) -> u32 { return params.w[i >> 2u][i & 3u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(p(i)); }
fn pi(i: u32) -> i32 { return bitcast<i32>(p(i)); }
// Non-finite constants come from private variables: WGSL rejects them in constant expressions.
var<private> kNegInfBits: u32 = 0xff800000u;
var<private> kNanBits: u32 = 0x7fc00000u;
fn negInf() -> f32 { return bitcast<f32>(kNegInfBits); }
fn nan() -> f32 { return bitcast<f32>(kNanBits); }
// Tested on the bits: compilers may fold 'x != x' to false.
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;
  bindings.forEach(([name, access, type], i) => {
    s += `@group(0) @binding(${i + 1}) var<storage, ${access === 'r' ? 'read' : 'read_write'}> ${name}: array<${type}>;\n`;
  });
  return s;
}

/** Entry point of a 1-D kernel; `idx` is the global thread index (workgroups spread over x and y). */
export const MAIN_1D = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** out[i] = bits for i < n: params [n, bits]. Dtype-agnostic (32-bit words). */
export function fillSource(): string {
  return `${prelude([['out', 'w', 'u32']])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  out[idx] = p(1);
}`;
}

/** dst[i] = src[i] for i < n: params [n]. Dtype-agnostic (32-bit words). */
export function copyWordsSource(): string {
  return `${prelude([['src', 'r', 'u32'], ['dst', 'w', 'u32']])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  dst[idx] = src[idx];
}`;
}

/** Workgroup counts for `threads` threads of a 1-D kernel: x up to 65535, overflow into y. */
export function grid1d(threads: number, perGroup = WG): [number, number, number] {
  return gridFor(Math.ceil(threads / perGroup));
}

/** Spreads `groups` workgroups over x and y (each dimension at most 65535). */
export function gridFor(groups: number): [number, number, number] {
  if (groups <= 65535) return [groups, 1, 1];
  return [65535, Math.ceil(groups / 65535), 1];
}

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);
/** The bit pattern of a float32, as a parameter word. */
export function f32bits(x: number): number {
  f32View[0] = x;
  return u32View[0]!;
}
/** The bit pattern of an int32, as a parameter word. */
export function i32bits(x: number): number {
  return x >>> 0;
}
/** The bit pattern of `value` stored as `dtype`. */
export function valueBits(value: number, dtype: DType): number {
  return dtype === 'float32' ? f32bits(value) : i32bits(Math.trunc(value) | 0);
}
