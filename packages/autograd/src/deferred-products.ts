import { type Tensor, concat, fmtShape, keep, matmul } from '@tinytape/tensor';

/**
 * A weight used at every time step gets one gradient term per step, xₜᵀ·yₜ, each contracting over
 * only the batch (32 rows in d2l's runs): a [32,512]ᵀ·[32,512] product reads and writes the whole
 * 512x512 sum to add 32 rank-one updates, so memory traffic, not arithmetic, bounds it. Backward
 * therefore collects these terms and evaluates their sum at the end as one product over the stacked
 * rows, [x₁; x₂; …]ᵀ·[y₁; y₂; …] = Σ xₜᵀ·yₜ, which the matmul kernels run near their peak and
 * split between threads. Same mathematics, one summation order instead of another: results agree
 * to float32 rounding.
 */

/** Terms whose contracted dimension (rows) is at most this are deferred; longer ones run at once. */
export const DEFER_MAX_ROWS = 128;

/** A leaf's deferred terms are summed early once they reach this many stacked rows, to bound memory. */
export const DEFER_FLUSH_ROWS = 8192;

/** The deferred gradient terms Σ xᵢᵀ·yᵢ of one input, held until {@link DeferredProducts.evaluate}. */
export class DeferredProducts {
  private readonly xs: Tensor[] = [];
  private readonly ys: Tensor[] = [];
  /** Rows stacked so far (the contracted dimension of the final product). */
  rows = 0;

  /** How many terms are waiting. */
  get count(): number {
    return this.xs.length;
  }

  /**
   * Adds the term xᵀ·y (x: [r, m], y: [r, n]). Holds views, kept out of any open scope (gradient
   * rules run inside one), so the caller may dispose its own handles; the buffers stay alive until
   * evaluate or dispose.
   */
  add(x: Tensor, y: Tensor): void {
    const first = this.xs[0];
    if (first !== undefined && (x.shape[1] !== first.shape[1] || y.shape[1] !== this.ys[0]!.shape[1])) {
      throw new Error(`deferred products: term ${fmtShape(x.shape)}ᵀ·${fmtShape(y.shape)} does not match the first term's columns`);
    }
    this.xs.push(keep(x.view(x.shape)));
    this.ys.push(keep(y.view(y.shape)));
    this.rows += x.shape[0]!;
  }

  /**
   * The sum of the terms as one product, [m, n]; releases the terms and empties this collection. With
   * `stacks`, the stacked rows come from (and stay with) that cache, shared with other leaves' sums.
   */
  evaluate(stacks?: RowStacks): Tensor {
    if (this.xs.length === 0) throw new Error('deferred products: nothing to evaluate');
    const xs = this.xs.splice(0);
    const ys = this.ys.splice(0);
    this.rows = 0;
    try {
      if (xs.length === 1) return matmul(xs[0]!, ys[0]!, { transA: true });
      if (stacks !== undefined) return matmul(stacks.of(xs), stacks.of(ys), { transA: true });
      const x = concat(xs, 0);
      const y = concat(ys, 0);
      try {
        return matmul(x, y, { transA: true });
      } finally {
        x.dispose();
        y.dispose();
      }
    } finally {
      for (const t of [...xs, ...ys]) t.dispose();
    }
  }

  /** Releases the terms without evaluating them (backward failed). */
  dispose(): void {
    for (const t of [...this.xs.splice(0), ...this.ys.splice(0)]) t.dispose();
    this.rows = 0;
  }
}

/**
 * Stacked rows shared by the deferred sums of one backward. Two weights often stack the same terms: in
 * d2l's scratch RNN the gradients dZₜ of the pre-activations are the rows of both W_hh's sum Σ Hₜ₋₁ᵀ·dZₜ
 * and W_xh's Σ Xₜᵀ·dZₜ. The second asks for the same buffers, unchanged, in the same order, and gets the
 * first stack again instead of a second copy of every row (35 copies of [32,512] a step at hidden 512).
 */
export class RowStacks {
  private readonly stacks: { parts: Tensor[]; versions: number[]; stacked: Tensor }[] = [];

  /** `parts` concatenated along rows, made once for the same parts; the tensor belongs to this cache. */
  of(parts: Tensor[]): Tensor {
    const versions = parts.map((t) => t.storage.version);
    const same = (entry: { parts: Tensor[]; versions: number[] }): boolean =>
      entry.parts.length === parts.length &&
      entry.parts.every((t, i) => t.storage === parts[i]!.storage && t.shape[0] === parts[i]!.shape[0] && entry.versions[i] === versions[i]);
    const found = this.stacks.find(same);
    if (found !== undefined) return found.stacked;
    const stacked = keep(concat(parts, 0));
    // Holding views keeps the parts' buffers (and so their identity) alive until dispose.
    this.stacks.push({ parts: parts.map((t) => keep(t.view(t.shape))), versions, stacked });
    return stacked;
  }

  /** Frees every stack and the views it kept. */
  dispose(): void {
    for (const { parts, stacked } of this.stacks.splice(0)) {
      for (const t of parts) t.dispose();
      stacked.dispose();
    }
  }
}
