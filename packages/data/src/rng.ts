import { DataError } from './errors.ts';

const TWO_POW_32 = 4294967296;

/**
 * A small seedable pseudo-random generator for the data pipeline (random offsets, shuffles).
 *
 * Design: the state is a single 32-bit word advanced by a fixed odd increment (a Weyl sequence), and
 * each output is that word pushed through a 32-bit avalanche mixer. One word of state keeps
 * {@link Rng.getState}/{@link Rng.setState} trivial, so a training run can be checkpointed and resumed
 * with exactly the same batches. The period is 2^32, far more than a data pipeline ever draws.
 */
export class Rng {
  private state: number;

  /**
   * @param seed - any finite number; only its low 32 bits matter. Omit it for a seed drawn from the
   *   operating system's entropy (non-reproducible, like Python's unseeded `random`).
   */
  constructor(seed?: number) {
    if (seed === undefined) {
      this.state = crypto.getRandomValues(new Uint32Array(1))[0]!;
    } else {
      if (!Number.isFinite(seed)) throw new DataError('bad-argument', `Rng: seed must be a finite number, got ${seed}`);
      this.state = seed >>> 0;
    }
  }

  /** A uniformly distributed integer in [0, 2^32). */
  nextUint32(): number {
    // Increment by an odd constant (the golden-ratio word): every state is visited once per period.
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    // Three xor-shift / multiply rounds: every input bit affects every output bit.
    z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d);
    z = Math.imul(z ^ (z >>> 12), 0x297a2d39);
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** A uniformly distributed float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /**
   * A uniformly distributed integer in [lo, hi], both ends included (like Python's `random.randint`).
   * Uses rejection sampling so that no value is favoured when the range does not divide 2^32.
   */
  randint(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) {
      throw new DataError('bad-argument', `Rng.randint: need integers lo <= hi, got lo=${lo}, hi=${hi}`);
    }
    const span = hi - lo + 1;
    if (span > TWO_POW_32) {
      throw new DataError('bad-argument', `Rng.randint: range [${lo}, ${hi}] is wider than 2^32`);
    }
    // Largest multiple of span not above 2^32; draws at or beyond it would bias the low values.
    const limit = TWO_POW_32 - (TWO_POW_32 % span);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return lo + (x % span);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.randint(0, i);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }

  /** The whole generator state, to save with a checkpoint. */
  getState(): number {
    return this.state;
  }

  /** Restores a state from {@link Rng.getState}; the following draws repeat those made after it. */
  setState(state: number): void {
    if (!Number.isInteger(state) || state < 0 || state >= TWO_POW_32) {
      throw new DataError('bad-argument', `Rng.setState: state must be an integer in [0, 2^32), got ${state}`);
    }
    this.state = state;
  }
}
