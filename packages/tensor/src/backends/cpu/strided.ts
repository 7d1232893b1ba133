/** A strided iteration space after merging axes: `strides[o][d]` is operand o's element stride on axis d. */
export interface Coalesced {
  shape: number[];
  strides: number[][];
}

/**
 * Simplifies an iteration space shared by several strided operands: drops extent-1 axes (their stride
 * never matters) and merges each axis into its outer neighbour when every operand steps through the
 * pair as one run. A contiguous tensor thus becomes rank 1 and a bias broadcast becomes rank 2, which is
 * what lets callers spot their fast paths without caring how the front end spelled the shapes.
 * Never returns rank 0: a single element comes back as shape [1].
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): Coalesced {
  const dims: number[] = [];
  const out: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const extent = shape[d]!;
    if (extent === 1) continue;
    const last = dims.length - 1;
    let mergeable = last >= 0;
    for (let o = 0; mergeable && o < strides.length; o++) {
      mergeable = out[o]![last] === strides[o]![d]! * extent;
    }
    if (mergeable) {
      dims[last]! *= extent;
      for (let o = 0; o < strides.length; o++) out[o]![last] = strides[o]![d]!;
    } else {
      dims.push(extent);
      for (let o = 0; o < strides.length; o++) out[o]!.push(strides[o]![d]!);
    }
  }
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims, strides: out };
}

/**
 * Walks every axis but the last of a coalesced space, keeping three operand offsets in step so that the
 * caller can run its innermost axis as one tight loop. `advance` is called once per inner run, so the
 * carry logic costs nothing per element.
 */
export class Odometer {
  /** Current offsets of operands 0, 1 and 2. */
  a: number;
  b: number;
  c: number;
  private readonly outerRank: number;
  // Plain arrays: an odometer is made for every strided kernel call, and typed arrays cost more to
  // create (the scratch RNN's step made thousands of them).
  private readonly extents: readonly number[];
  private readonly counters: number[];
  private readonly sa: readonly number[];
  private readonly sb: readonly number[];
  private readonly sc: readonly number[];

  constructor(space: Coalesced, baseA: number, baseB: number, baseC: number) {
    this.a = baseA;
    this.b = baseB;
    this.c = baseC;
    const outer = space.shape.length - 1;
    this.outerRank = outer;
    this.extents = space.shape.slice(0, outer);
    this.counters = new Array<number>(outer).fill(0);
    const zeros = new Array<number>(outer).fill(0); // for an operand the space has no strides for
    this.sa = space.strides[0]?.slice(0, outer) ?? zeros;
    this.sb = space.strides[1]?.slice(0, outer) ?? zeros;
    this.sc = space.strides[2]?.slice(0, outer) ?? zeros;
  }

  /** Moves to the start of the next inner run. */
  advance(): void {
    for (let d = this.outerRank - 1; d >= 0; d--) {
      if (++this.counters[d]! < this.extents[d]!) {
        this.a += this.sa[d]!;
        this.b += this.sb[d]!;
        this.c += this.sc[d]!;
        return;
      }
      // Wrapping an axis rewinds its whole span before carrying into the next outer axis.
      const back = this.extents[d]! - 1;
      this.counters[d] = 0;
      this.a -= this.sa[d]! * back;
      this.b -= this.sb[d]! * back;
      this.c -= this.sc[d]! * back;
    }
  }
}
