/** The command-line front end of `@tinytape/rnn`: argument parsing, typed configs and help text. */
export { parseCli, type CliCommand } from './args.ts';
export { usage, PROGRAM } from './usage.ts';
export {
  DATASETS,
  DEVICES,
  GENERATE_DEFAULTS,
  MODELS,
  OPTIMIZERS,
  TRAIN_DEFAULTS,
  type DataSource,
  type DatasetName,
  type DeviceChoice,
  type GenerateConfig,
  type ModelKind,
  type OptimizerKind,
  type TrainConfig,
} from './config.ts';
export { COMMANDS, GENERATE_FLAGS, TRAIN_FLAGS, type CommandName, type FlagSpec } from './flags.ts';
