import { Generator, type Tensor, mul, randn, scope, sum, tensor } from '@tinytape/tensor';
import { backward } from './backward.ts';
import { noGrad } from './no-grad.ts';

export interface GradcheckOptions {
  /** Finite-difference step. float32 needs a large one: round-off grows as 1/eps. Default 1e-2. */
  eps?: number;
  /** Absolute tolerance (default 1e-3). */
  atol?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Seed of the random projection used when `fn` returns a non-scalar. */
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| over all checked elements. */
  maxAbsError: number;
  /** Number of elements compared. */
  checked: number;
  /** One line per element outside tolerance: input, flat index, analytic and numeric values. */
  failures: string[];
}

/**
 * Compares the tape's gradients of `fn` with central finite differences, element by element
 * (`torch.autograd.gradcheck`). Every float32 input is differentiated; int32 inputs (indices,
 * targets) pass through unchanged. A non-scalar result is reduced to the scalar Σ out ⊙ r with a
 * fixed random r, which checks the full Jacobian-vector product. Keep inputs small: this runs `fn`
 * twice per element.
 */
export async function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  const hosts = await Promise.all(inputs.map((t) => t.toArray()));
  const device = inputs[0]!.device;
  const fresh = (requiresGrad: boolean, override?: { input: number; index: number; delta: number }): Tensor[] =>
    inputs.map((t, i) => {
      if (t.dtype !== 'float32') return t;
      const data = Float32Array.from(hosts[i]!);
      if (override && override.input === i) data[override.index]! += override.delta;
      return tensor(data, { shape: t.shape, device, requiresGrad });
    });

  // The projection that turns any output into a scalar.
  const outShape = noGrad(() => scope(() => fn(...fresh(false)).shape));
  const projection = randn(outShape, { device, generator: new Generator(opts.seed ?? 7) });
  const objective = (xs: Tensor[]): Tensor => sum(mul(fn(...xs), projection));

  const leaves = fresh(true);
  const loss = objective(leaves);
  backward(loss);
  loss.dispose();
  const analytic = await Promise.all(leaves.map((t) => (t.dtype === 'float32' && t.grad ? t.grad.toArray() : null)));

  let maxAbsError = 0;
  let checked = 0;
  const failures: string[] = [];
  for (let i = 0; i < inputs.length; i++) {
    if (inputs[i]!.dtype !== 'float32') continue;
    for (let j = 0; j < inputs[i]!.size; j++) {
      const at = async (delta: number): Promise<number> => {
        const value = noGrad(() => scope(() => objective(fresh(false, { input: i, index: j, delta }))));
        const v = await value.item();
        value.dispose();
        return v;
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      const got = analytic[i]?.[j] ?? 0;
      const err = Math.abs(got - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      checked++;
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        failures.push(`input ${i} [${j}]: analytic ${got.toPrecision(6)} vs numeric ${numeric.toPrecision(6)}`);
      }
    }
  }
  for (const t of leaves) if (t.dtype === 'float32') t.dispose();
  projection.dispose();
  return { ok: failures.length === 0, maxAbsError, checked, failures };
}
