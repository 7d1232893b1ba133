import type { Tensor } from './tensor.ts';

/**
 * Process-wide bookkeeping the tensor ops share: the stack of open scopes (for `scope()`), the count of
 * live tensors, and the hook through which the autograd package records ops onto its tape. The tensor
 * package knows nothing about gradients; it only calls `recordOp` after each differentiable op.
 */
export interface OpRecord {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  /** Whatever the op's gradient rule needs besides inputs and output (axes, flags, shapes). */
  attrs: Record<string, unknown>;
}

export type Recorder = (record: OpRecord) => void;

/** What a scope listener learns about a closing scope. */
export interface ClosingScope {
  /** Number of scopes still open after this one closes. */
  depth: number;
  /** Tensors the scope created. */
  created: ReadonlySet<Tensor>;
  /** Tensors that outlive it: returned by the callback or marked with `keep`. */
  survivors: ReadonlySet<Tensor>;
}

interface EngineState {
  scopes: Set<Tensor>[];
  liveTensors: number;
  nextId: number;
  recorder: Recorder | null;
  gradEnabled: boolean;
  /**
   * Called when a scope closes, before its tensors are disposed. A listener (the tape) returns the
   * tensors it takes over: values a surviving gradient graph still needs, freed when the tape is.
   */
  scopeListeners: ((closing: ClosingScope) => Iterable<Tensor>)[];
}

export const engine: EngineState = {
  scopes: [],
  liveTensors: 0,
  nextId: 0,
  recorder: null,
  gradEnabled: true,
  scopeListeners: [],
};

/** Installs the function that receives every recorded op (the autograd package calls this once). */
export function setRecorder(recorder: Recorder | null): void {
  engine.recorder = recorder;
}

/** Whether ops are currently recorded for gradients (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return engine.gradEnabled;
}

/** Turns gradient recording on or off and returns the previous setting. */
export function setGradEnabled(enabled: boolean): boolean {
  const previous = engine.gradEnabled;
  engine.gradEnabled = enabled;
  return previous;
}

/** Called by every differentiable op; records it only when some input needs a gradient. */
export function recordOp(op: string, inputs: Tensor[], output: Tensor, attrs: Record<string, unknown> = {}): Tensor {
  if (engine.recorder !== null && engine.gradEnabled && inputs.some((t) => t.requiresGrad)) {
    output.requiresGrad = true;
    engine.recorder({ op, inputs, output, attrs });
  }
  return output;
}

/** Registers a new tensor with the innermost open scope. */
export function trackTensor(t: Tensor): void {
  engine.liveTensors++;
  const top = engine.scopes[engine.scopes.length - 1];
  if (top !== undefined) top.add(t);
}

export function untrackTensor(t: Tensor): void {
  engine.liveTensors--;
  const top = engine.scopes[engine.scopes.length - 1];
  if (top !== undefined) top.delete(t);
}
