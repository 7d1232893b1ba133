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

/** Resident copies by array, then by instance (each instance has its own memory), then by layout. */
const resident = new WeakMap<Float32Array, Map<ResidentArea, Map<string, ResidentCopy>>>();

/**
 * Where B (in `layout`) lives in this instance's resident area: the float offset of a valid copy
 * (`reused`), an offset the caller must fill (`reused` false), or -1 (the caller copies B into
 * scratch as usual, and the use is remembered).
 *
 * A B is kept once it proves to be a weight: its second use with unchanged values. From then on a
 * write to it (the optimizer's update) refills its slot at its next use, so a weight costs one
 * packing per update and layout rather than two. Each layout has its own copy: W_hh is packed as it
 * is for H·W_hh and transposed for dZ·W_hhᵀ, and with one copy per array the two evicted each
 * other twice a step (the transposed packing is a JavaScript loop, about 0.3 ms at [512,512]).
 */
export function residentSlot(kern: ResidentArea, B: Float32Array, layout: string, floats: number): { offset: number; reused: boolean } {
  let areas = resident.get(B);
  if (areas === undefined) resident.set(B, (areas = new Map()));
  let copies = areas.get(kern);
  if (copies === undefined) areas.set(kern, (copies = new Map()));
  const copy = copies.get(layout);
  const version = versionOf(B);
  if (copy === undefined) {
    copies.set(layout, { layout, offset: -1, generation: kern.residentGeneration, version });
    return { offset: -1, reused: false };
  }
  const slotted = copy.offset >= 0 && copy.generation === kern.residentGeneration;
  if (slotted) {
    if (copy.version !== version) copies.set(layout, { ...copy, version }); // refilled by the caller
    return { offset: copy.offset, reused: copy.version === version };
  }
  // No current slot: reserve one for a second use of the same values, or for a B that held one before
  // (a weight whose slot went with an older generation); otherwise remember this use.
  if (copy.version !== version && copy.offset < 0) {
    copies.set(layout, { layout, offset: -1, generation: kern.residentGeneration, version });
    return { offset: -1, reused: false };
  }
  const size = roundUp4(floats + 4);
  if (kern.residentTop + size > RESIDENT_FLOATS) {
    kern.residentGeneration++;
    kern.residentTop = 0;
  }
  const offset = kern.residentTop;
  kern.residentTop += size;
  copies.set(layout, { layout, offset, generation: kern.residentGeneration, version });
  return { offset, reused: false };
}
