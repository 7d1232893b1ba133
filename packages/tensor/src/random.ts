import { ValueError } from './errors.ts';

/**
 * A small seedable generator (SplitMix32-style: a Weyl sequence passed through an integer mixer).
 * Random tensors are drawn on the host and uploaded, so a seed gives the same numbers on every device.
 * Its whole state is one 32-bit counter plus a cached normal deviate, so it can be saved and restored.
 */
export class Generator {
  private counter: number;
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new ValueError(`Generator: seed must be a finite number, got ${seed}`);
    this.counter = seed >>> 0;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    this.counter = (this.counter + 0x9e3779b9) >>> 0;
    let z = this.counter;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal deviate (Box–Muller; the second value of each pair is kept for the next call). */
  nextNormal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** The state to pass to `setState` to continue the same stream later (checkpoint/resume). */
  getState(): { counter: number; spareNormal: number | null } {
    return { counter: this.counter, spareNormal: this.spareNormal };
  }

  setState(state: { counter: number; spareNormal: number | null }): void {
    this.counter = state.counter >>> 0;
    this.spareNormal = state.spareNormal;
  }
}

let globalGenerator = new Generator(0);

/** Re-seeds the default generator used when an op is given none (like `torch.manual_seed`). */
export function manualSeed(seed: number): void {
  globalGenerator = new Generator(seed);
}

/** The default generator. */
export function defaultGenerator(): Generator {
  return globalGenerator;
}
