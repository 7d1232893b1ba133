import { versionOf } from '../buffer-versions.ts';

// Resident right operands of the wasm matmul, by the version of their contents.
//
// A weight matrix is the B of one product per time step (H·W_hh forward,
// dZ·W_hhᵀ backward) and does not change until the optimizer's update, yet each product copied it
// into wasm memory again: 1 MB and 512 padded row copies at [512,512], about 0.1-0.2 ms of a
// 0.8 ms product. So a B of at least RESIDENT_MIN_FLOATS that comes back unchanged (its second
// use: activations and gradients are the B of one product only, and would just crowd the area) is
// copied into the resident area at the bottom of the memory, in the layout its kernel reads, and
// later products with the same array and layout use that copy. Each copy remembers the version of B it
// was made from (buffer-versions.ts), which the backend advances on every write to B (every kernel's
// output, in-place updates, pooled reuse), so a copy is used only while it holds B's current values.
// When the area is full it is emptied at once (a new generation) and refilled on demand.

/** Floats reserved for resident operands at the start of the memory (8 MiB); scratch starts after. */
export const RESIDENT_FLOATS = 2 ** 21;
/** Right operands smaller than this are copied each time (cheap, and not worth a slot). */
export const RESIDENT_MIN_FLOATS = 4096;

/** What residentSlot says for a B that may not reside. */
export const NOT_RESIDENT = { offset: -1, reused: false } as const;

/** An instance's resident area: floats in use, and its generation (see residentSlot). */
export interface ResidentArea {
  residentTop: number;
  residentGeneration: number;
}

/** Rounds a float count up to a multiple of 4 (16 bytes), the alignment of every region. */
export const roundUp4 = (x: number): number => Math.ceil(x / 4) * 4;

interface ResidentCopy {
  /** How B is laid out in memory (padded rows, transposed in, ...); another layout needs another copy. */
  readonly layout: string;
  /** Float offset of the copy in the resident area, or -1 after a first use (seen, not yet copied). */
  readonly offset: number;
  /** The area generation the copy belongs to; older generations have been overwritten. */
  readonly generation: number;
  /** The version of B the copy (or the first use) saw; a write to B since then makes it stale. */
  readonly version: number;
}

/** Resident copies by array, then by instance (each instance has its own memory). */
const resident = new WeakMap<Float32Array, Map<ResidentArea, ResidentCopy>>();

/**
 * Where B (in `layout`) lives in this instance's resident area: the float offset of a valid copy
 * (`reused`), a newly reserved offset the caller must fill (second use of unchanged values), or -1
 * (first use, or the first since B was written: the caller copies B into scratch as usual, and the use
 * is remembered).
 */
export function residentSlot(kern: ResidentArea, B: Float32Array, layout: string, floats: number): { offset: number; reused: boolean } {
  let copies = resident.get(B);
  if (copies === undefined) resident.set(B, (copies = new Map()));
  const copy = copies.get(kern);
  const version = versionOf(B);
  if (copy === undefined || copy.layout !== layout || copy.version !== version) {
    copies.set(kern, { layout, offset: -1, generation: kern.residentGeneration, version });
    return { offset: -1, reused: false };
  }
  if (copy.offset >= 0 && copy.generation === kern.residentGeneration) return { offset: copy.offset, reused: true };
  const size = roundUp4(floats + 4);
  if (kern.residentTop + size > RESIDENT_FLOATS) {
    kern.residentGeneration++;
    kern.residentTop = 0;
  }
  const offset = kern.residentTop;
  kern.residentTop += size;
  copies.set(kern, { layout, offset, generation: kern.residentGeneration, version });
  return { offset, reused: false };
}
