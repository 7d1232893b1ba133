import { loadCheckpoint, modelFromCheckpoint, vocabFromCheckpoint } from '../checkpoint.ts';
import { predict } from '../train/predict.ts';
import type { GenerateConfig } from './config.ts';
import { pickDevice } from './device-choice.ts';
import type { Io } from './run-train.ts';

/** `tinytape generate`: continues a prefix with a saved model, greedily or by sampling. */
export async function runGenerate(config: GenerateConfig, io: Io): Promise<void> {
  const ckpt = await loadCheckpoint(config.checkpoint);
  const device = await pickDevice(config.device, (line) => io.err(`tinytape: ${line}`));
  const net = modelFromCheckpoint(ckpt, device, config.checkpoint);
  const vocab = vocabFromCheckpoint(ckpt.info);
  const text = await predict(config.prefix, config.num, net, vocab, device, {
    temperature: config.temperature,
    seed: config.seed,
  });
  io.out(text);
}
