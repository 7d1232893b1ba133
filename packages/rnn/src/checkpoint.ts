/*
 * Model checkpoints: parameters as safetensors (PyTorch opens them with safetensors.torch.load_file;
 * the scratch model's names are W_xh, W_hh, b_h, W_hq, b_q, the concise models' are PyTorch's own
 * state_dict names, rnn.weight_ih_l0 ... linear.bias, so `load_state_dict` on the book's RNNModel takes
 * them as they are), and in the file's metadata everything needed to rebuild the model and generate
 * text: the configuration and the vocabulary.
 */
import { CharVocab, type TokenVocab } from '@tinytape/data';
import { noGrad } from '@tinytape/autograd';
import { type Device, tensor } from '@tinytape/tensor';
import { CheckpointError, NonFiniteParameterError } from './io/errors.ts';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors, type DecodedSafetensors, type SafeTensor } from './io/safetensors.ts';
import { createModel, parseModelSpec, type ModelSpec } from './model/create.ts';
import type { LanguageModel } from './model/types.ts';

const FORMAT = 'tinytape-checkpoint-1';

/** What a checkpoint holds besides the parameters. */
export interface CheckpointInfo {
  /** The model's `config()` (model kind, sizes). */
  config: Record<string, unknown>;
  /** Tokens by index. */
  vocab: string[];
  /** 'vocab' (d2l's, `<unk>` at 0) or 'char' (the Gluon edition's, no `<unk>`). */
  vocabKind: 'vocab' | 'char';
  /** Epochs completed when saved. */
  epoch: number;
  /** Anything else a run wants to resume (RNG states, optimizer step, training options). */
  extra?: Record<string, unknown>;
}

/**
 * Names starting with this hold optimizer state saved for `--resume` (Adam's moments), not parameters:
 * loading a model skips them. PyTorch users drop them before `load_state_dict`.
 */
export const OPTIMIZER_TENSOR_PREFIX = 'optimizer.';

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /**
   * Optimizer state to store next to the parameters (see `trainingCheckpoint` in train/resume.ts);
   * every name must start with {@link OPTIMIZER_TENSOR_PREFIX}.
   */
  optimizerTensors?: Record<string, SafeTensor>;
  /** Save even when a parameter holds NaN or ±Infinity (default: refuse, keeping the old file). */
  allowNonFinite?: boolean;
}

/**
 * Writes the model's parameters and `info` to `path` atomically (temp file + rename; Node only). Every
 * parameter is read back before the file is touched, so a failing device or a diverged model leaves the
 * previous checkpoint whole.
 *
 * @throws {@link NonFiniteParameterError} when a parameter holds NaN or ±Infinity (unless `allowNonFinite`).
 * @throws {@link CheckpointError} for a misnamed optimizer tensor or a file that cannot be written.
 */
export async function saveCheckpoint(
  path: string,
  net: LanguageModel,
  info: CheckpointInfo,
  opts: SaveCheckpointOptions = {},
): Promise<void> {
  const { tensors, metadata } = await checkpointTensors(net, info, opts, `not saving "${path}"`);
  await saveSafetensors(path, tensors, metadata);
}

/**
 * The checkpoint {@link saveCheckpoint} would write, as the bytes of a safetensors file: what a page
 * offers as a download (the CLI's `generate` and PyTorch read it like any checkpoint). Works anywhere.
 *
 * @throws the same errors as {@link saveCheckpoint}, but for writing.
 */
export async function checkpointToBytes(net: LanguageModel, info: CheckpointInfo, opts: SaveCheckpointOptions = {}): Promise<Uint8Array> {
  const { tensors, metadata } = await checkpointTensors(net, info, opts, 'not saving the checkpoint');
  return encodeSafetensors(tensors, metadata);
}

/** The parameters (read back from the device) and optimizer tensors to save, checked, with the metadata. */
async function checkpointTensors(
  net: LanguageModel,
  info: CheckpointInfo,
  opts: SaveCheckpointOptions,
  refusal: string,
): Promise<{ tensors: Record<string, SafeTensor>; metadata: Record<string, string> }> {
  const tensors: Record<string, SafeTensor> = {};
  for (const [name, p] of net.namedParameters()) {
    const data = await p.toArray();
    if (!opts.allowNonFinite && !data.every(Number.isFinite)) {
      throw new NonFiniteParameterError(`${refusal}: parameter "${name}" holds NaN or infinite values (the model has diverged)`);
    }
    tensors[name] = { dtype: p.dtype, shape: [...p.shape], data };
  }
  for (const [name, t] of Object.entries(opts.optimizerTensors ?? {})) {
    if (!name.startsWith(OPTIMIZER_TENSOR_PREFIX)) {
      throw new CheckpointError(`saveCheckpoint: optimizer tensor "${name}" must be named ${OPTIMIZER_TENSOR_PREFIX}...`);
    }
    tensors[name] = t;
  }
  return { tensors, metadata: { format: FORMAT, tinytape: JSON.stringify(info) } };
}

/** A loaded checkpoint: parameters as host arrays plus the info saved with them. */
export interface LoadedCheckpoint {
  tensors: Record<string, SafeTensor>;
  info: CheckpointInfo;
}

/** Reads a checkpoint written by `saveCheckpoint` (Node only), checking it is one before trusting its metadata. */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  return checkpointFromDecoded(await loadSafetensors(path), `checkpoint "${path}"`);
}

/**
 * Reads a checkpoint from the bytes of its file (e.g. a file picked in a page), as {@link loadCheckpoint}
 * reads one from a path. Works anywhere.
 *
 * @param label - how to name the file in error messages.
 * @throws {@link CheckpointError} for anything that is not a valid tinytape checkpoint.
 */
export function checkpointFromBytes(bytes: Uint8Array, label = 'checkpoint'): LoadedCheckpoint {
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (err) {
    if (err instanceof CheckpointError) throw new CheckpointError(`${label}: ${err.message}`, { cause: err });
    throw err;
  }
  return checkpointFromDecoded(decoded, label);
}

/** Checks the format tag and the metadata of a decoded safetensors file. */
function checkpointFromDecoded({ tensors, metadata }: DecodedSafetensors, label: string): LoadedCheckpoint {
  if (metadata.format !== FORMAT || typeof metadata.tinytape !== 'string') {
    throw new CheckpointError(`${label}: not a tinytape checkpoint (its metadata has no "${FORMAT}" format tag)`);
  }
  let info: CheckpointInfo;
  try {
    info = JSON.parse(metadata.tinytape) as CheckpointInfo;
  } catch {
    throw new CheckpointError(`${label}: its tinytape metadata is not valid JSON`);
  }
  if (!Array.isArray(info.vocab) || info.vocab.some((t) => typeof t !== 'string') || typeof info.config !== 'object') {
    throw new CheckpointError(`${label}: its metadata lacks a vocabulary or configuration`);
  }
  return { tensors, info };
}

/**
 * Copies checkpoint tensors into the model's parameters, checking every name and shape first. Optimizer
 * state (names starting with {@link OPTIMIZER_TENSOR_PREFIX}) is ignored.
 */
export function loadParameters(net: LanguageModel, tensors: Record<string, SafeTensor>, path = 'checkpoint'): void {
  const params = net.namedParameters();
  for (const [name, p] of params) {
    const t = tensors[name];
    if (t === undefined) throw new CheckpointError(`${path}: missing parameter "${name}" for this model`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new CheckpointError(`${path}: parameter "${name}" has shape [${t.shape}] but the model needs [${p.shape}]`);
    }
  }
  const extra = Object.keys(tensors).filter((k) => !k.startsWith(OPTIMIZER_TENSOR_PREFIX) && !params.some(([n]) => n === k));
  if (extra.length > 0) throw new CheckpointError(`${path}: unexpected parameters for this model: ${extra.join(', ')}`);
  noGrad(() => {
    for (const [name, p] of params) {
      const src = tensor(tensors[name]!.data, { shape: p.shape, device: p.device });
      p.assign_(src);
      src.dispose();
    }
  });
}

/** Rebuilds the vocabulary saved in a checkpoint. */
export function vocabFromCheckpoint(info: CheckpointInfo): TokenVocab {
  // d2l's Vocab maps unknown tokens to <unk> at index 0; the Gluon edition's to ' '.
  const fallback = info.vocabKind === 'vocab' ? '<unk>' : info.vocab.includes(' ') ? ' ' : null;
  return new CharVocab(info.vocab, { fallback });
}

/**
 * Rebuilds the model a checkpoint was saved from — any kind `createModel` knows (scratch RNN, GRU or
 * LSTM; concise RNN, GRU or LSTM of any depth and direction) — on `device`, with the saved weights.
 *
 * @throws {@link CheckpointError} when the configuration is unknown or a parameter is missing or misshapen.
 */
export function modelFromCheckpoint(ckpt: LoadedCheckpoint, device: Device, path = 'checkpoint'): LanguageModel {
  let spec: ModelSpec;
  try {
    spec = parseModelSpec(ckpt.info.config);
  } catch (error) {
    throw new CheckpointError(`${path}: cannot rebuild its model: ${(error as Error).message}`);
  }
  const net = createModel(spec, device);
  loadParameters(net, ckpt.tensors, path);
  return net;
}
