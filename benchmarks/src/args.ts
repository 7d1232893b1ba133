/** Command-line flags of `pnpm bench`. */
import type { RecurrencePath } from '@tinytape/rnn';

export const FAMILIES = ['throughput', 'scaling', 'kernels'] as const;
export type Family = (typeof FAMILIES)[number];

export const DEVICES = ['cpu', 'webgpu'] as const;
export type DeviceName = (typeof DEVICES)[number];

export const PEERS = ['tfjs-cpu', 'tfjs-wasm', 'jax-wasm'] as const;
export type PeerName = (typeof PEERS)[number];

/**
 * The models the throughput family trains (see models.ts): d2l §8.5's scratch RNN, §8.6's RNNModel
 * around a one-layer RNN, GRU or LSTM, and the same RNNModel around a 2-layer bidirectional LSTM
 * (d2l §9.3/§9.4's layers), which only tinytape runs.
 */
export const MODELS = ['scratch-rnn', 'concise-rnn', 'concise-gru', 'concise-lstm', 'deep-bilstm'] as const;

/** The recurrence paths of tinytape's layers (`RecurrencePath` in @tinytape/rnn). */
export const RECURRENCE: readonly RecurrencePath[] = ['kernel', 'sequence', 'steps'];
export type ModelName = (typeof MODELS)[number];

export interface BenchArgs {
  quick: boolean;
  json: boolean;
  families: Family[];
  devices: DeviceName[];
  peers: PeerName[];
  /** The throughput family's models to run (the plan's others are dropped). */
  models: ModelName[];
  /** How the concise layers run their recurrence (default: each device's). */
  recurrence?: RecurrencePath;
  /** Overrides the plan's measured epochs per run. */
  epochs?: number;
  /** Overrides the plan's warm-up epochs per run. */
  warmup?: number;
  /** Where the markdown report goes (default benchmarks/results). */
  outDir?: string;
  write: boolean;
  /**
   * Exit 1 when anything did not run (device, peer) or a WebGPU run needs more dispatches per step
   * than its target (targets.ts), not only when tinytape fails. For CI.
   */
  strict: boolean;
  /**
   * Time tinytape's WebGPU kernels with timestamp queries (off by default: it adds work to every
   * compute pass). Reported as GPU kernel ms per training step beside the wall time per step.
   */
  gpuTiming: boolean;
  seed: number;
  dataDir?: string;
  help: boolean;
}

export const USAGE = `usage: pnpm bench [flags]

Training throughput (tinytape vs TensorFlow.js and jax-js, interleaved), scaling, kernels and memory.

  --quick              reduced sizes and epochs (what CI runs; well under two minutes)
  --json               print one JSON object with every figure instead of the table
  --only LIST          families to run: ${FAMILIES.join(',')} (default all)
  --devices LIST       tinytape devices: ${DEVICES.join(',')} (default both; webgpu is skipped with a note when no adapter)
  --peers LIST         peers to compare against: ${PEERS.join(',')}, or none (default all)
  --models LIST        throughput models: ${MODELS.join(',')} (default all;
                       deep-bilstm is a 2-layer bidirectional LSTM, run by tinytape only)
  --recurrence PATH    how the concise layers run their recurrence: ${RECURRENCE.join(', ')} (default: kernel
                       on WebGPU, sequence on the CPU; compare paths on one device with two runs)
  --epochs N           measured epochs per training run (after warm-up)
  --warmup N           warm-up epochs per training run (not measured)
  --seed N             parameter and data seed (default 0)
  --data-dir DIR       where timemachine.txt is (default $TINYTAPE_DATA_DIR or ../shared/data)
  --out DIR            where the markdown report goes (default benchmarks/results)
  --no-write           do not write the markdown report
  --strict             exit 1 when a device or peer could not run, or a WebGPU run needs more dispatches
                       per training step than its target (not only when tinytape fails); for CI
  --gpu-timing         time tinytape's WebGPU kernels with timestamp queries (where the adapter has
                       timestamp-query) and report GPU kernel ms per training step; adds work per pass
  -h, --help           this text
`;

/** Parses argv (without node and the script); throws an Error with a one-line message on bad input. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    quick: false,
    json: false,
    families: [...FAMILIES],
    devices: [...DEVICES],
    peers: [...PEERS],
    models: [...MODELS],
    write: true,
    strict: false,
    gpuTiming: false,
    seed: 0,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick': args.quick = true; break;
      case '--json': args.json = true; break;
      case '--only': args.families = list(flag, value(), FAMILIES); break;
      case '--devices': args.devices = list(flag, value(), DEVICES); break;
      case '--peers': {
        const v = value();
        args.peers = v === 'none' ? [] : list(flag, v, PEERS);
        break;
      }
      case '--models': args.models = list(flag, value(), MODELS); break;
      case '--recurrence': {
        const [path, ...more] = list(flag, value(), RECURRENCE);
        if (more.length > 0) throw new Error(`${flag}: one path, got ${[path, ...more].join(',')}`);
        args.recurrence = path;
        break;
      }
      case '--epochs': args.epochs = int(flag, value(), 1); break;
      case '--warmup': args.warmup = int(flag, value(), 0); break;
      case '--seed': args.seed = int(flag, value(), 0); break;
      case '--data-dir': args.dataDir = value(); break;
      case '--out': args.outDir = value(); break;
      case '--no-write': args.write = false; break;
      case '--strict': args.strict = true; break;
      case '--gpu-timing': args.gpuTiming = true; break;
      case '-h': case '--help': args.help = true; break;
      default: throw new Error(`unknown flag ${flag} (see --help)`);
    }
  }
  return args;
}

function list<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`${flag}: unknown value "${item}" (expected ${allowed.join(', ')})`);
  }
  if (items.length === 0) throw new Error(`${flag}: empty list`);
  return items as T[];
}

function int(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got "${value}"`);
  return n;
}
