import { noGrad } from '@tinytape/autograd';
import { DataError, type TokenVocab } from '@tinytape/data';
import { type Device, Generator, type Tensor, argmax, div, scope, softmax, tensor } from '@tinytape/tensor';
import type { LanguageModel, State } from '../model/types.ts';

export interface PredictOptions {
  /** Sample from softmax(logits / temperature) instead of taking the argmax. */
  temperature?: number;
  /** Seed of the sampling generator (ignored for greedy prediction). */
  seed?: number;
  /**
   * Refuse a prefix with characters the vocabulary lacks (a DataError listing them) instead of mapping
   * them to `<unk>`: a model trained on lower-case text has never seen 'T', and its continuation of
   * `<unk>` says little.
   */
  strict?: boolean;
}

/**
 * The distinct characters of `text` that are not tokens of `vocab`, in order of first appearance
 * (`<unk>` itself is a token, but no single character spells it).
 */
export function unknownCharacters(text: string, vocab: TokenVocab): string[] {
  return [...new Set(Array.from(text))].filter((ch) => !vocab.tokenToIdx.has(ch));
}

/**
 * d2l's `predict_ch8`: warm the state up on `prefix` (batch size 1), then generate `numPreds`
 * characters, each fed back as the next input. Greedy (argmax) by default; with a `temperature` it
 * samples. The result starts with the prefix. Characters the vocabulary does not know map to its
 * `<unk>` (or whatever its `get` documents) instead of failing.
 */
export async function predict(
  prefix: string,
  numPreds: number,
  net: LanguageModel,
  vocab: TokenVocab,
  device: Device,
  opts: PredictOptions = {},
): Promise<string> {
  const chars = Array.from(prefix);
  if (chars.length === 0) throw new RangeError('predict: prefix must contain at least one character');
  if (!Number.isInteger(numPreds) || numPreds < 0) throw new RangeError(`predict: numPreds must be an integer >= 0, got ${numPreds}`);
  if (opts.temperature !== undefined && !(opts.temperature > 0)) {
    throw new RangeError(`predict: temperature must be > 0, got ${opts.temperature}`);
  }
  if (opts.strict) {
    const unknown = unknownCharacters(prefix, vocab);
    if (unknown.length > 0) {
      throw new DataError('unknown-token', `predict: the prefix has characters the vocabulary lacks: ${unknown.map((c) => JSON.stringify(c)).join(', ')}`);
    }
  }
  const generator = new Generator(opts.seed ?? 0);
  const outputs = [vocab.get(chars[0]!)];
  let state: State = net.beginState(1, device);
  const step = (token: number): Tensor | null => {
    const [Y, next] = noGrad(() =>
      scope(() => net.forward(tensor([token], { shape: [1, 1], dtype: 'int32', device }), state)),
    );
    for (const s of state) s.dispose();
    state = next;
    return Y;
  };
  try {
    for (const ch of chars.slice(1)) {
      step(outputs[outputs.length - 1]!)!.dispose();
      outputs.push(vocab.get(ch));
    }
    for (let i = 0; i < numPreds; i++) {
      const Y = step(outputs[outputs.length - 1]!)!;
      outputs.push(await choose(Y, opts.temperature, generator));
      Y.dispose();
    }
  } finally {
    for (const s of state) s.dispose();
  }
  return vocab.toTokens(outputs).join('');
}

async function choose(logits: Tensor, temperature: number | undefined, generator: Generator): Promise<number> {
  if (temperature === undefined) {
    const best = argmax(logits, 1);
    const index = await best.item();
    best.dispose();
    return index;
  }
  const probs = noGrad(() => scope(() => softmax(div(logits, temperature))));
  const p = await probs.toArray();
  probs.dispose();
  let u = generator.nextFloat();
  for (let i = 0; i < p.length; i++) {
    u -= p[i]!;
    if (u < 0) return i;
  }
  return p.length - 1;
}
