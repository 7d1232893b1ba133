import { loadCheckpoint, modelFromCheckpoint, vocabFromCheckpoint } from '../checkpoint.ts';
import { CliError } from '../io/errors.ts';
import { predict, unknownCharacters } from '../train/predict.ts';
import type { GenerateConfig } from './config.ts';
import { pickDevice } from './device-choice.ts';
import { cleaningHint } from './load-data.ts';
import { quote } from './values.ts';
import type { Io } from './run-train.ts';

/** `tinytape generate`: continues a prefix with a saved model, greedily or by sampling. */
export async function runGenerate(config: GenerateConfig, io: Io): Promise<void> {
  const ckpt = await loadCheckpoint(config.checkpoint);
  const vocab = vocabFromCheckpoint(ckpt.info);
  // Checked before a device is opened: a typo should not wait for WebGPU to start.
  const unknown = unknownCharacters(config.prefix, vocab);
  if (unknown.length > 0) {
    throw new CliError(
      `--prefix: characters not in the model's vocabulary: ${unknown.map(quote).join(', ')} ` +
        `(it knows ${describeTokens(vocab.idxToToken)})${cleaningHint(ckpt.info.vocabKind)}`,
    );
  }
  const device = await pickDevice(config.device, (line) => io.err(`tinytape: ${line}`));
  const net = modelFromCheckpoint(ckpt, device, config.checkpoint);
  const text = await predict(config.prefix, config.num, net, vocab, device, {
    temperature: config.temperature,
    seed: config.seed,
  });
  io.out(text);
}

/** A vocabulary in a few words: its tokens when they are few, else their count. */
function describeTokens(tokens: readonly string[]): string {
  if (tokens.length > 64) return `${tokens.length} tokens`;
  // Sorted: a frequency-ordered vocabulary ("etaino...") is hard to scan for the missing letter.
  const chars = tokens.filter((t) => Array.from(t).length === 1).sort().join('');
  const words = tokens.filter((t) => Array.from(t).length !== 1);
  return `${tokens.length} tokens: ${quote(chars)}${words.length > 0 ? ` and ${words.join(', ')}` : ''}`;
}
