/** File input/output of `@tinytape/rnn`: checkpoints, charts, CSV logs, atomic writes and the error types. */
export { CheckpointError, CliError, FileWriteError, NonFiniteParameterError, PlotError, RunStoppedError, TinytapeUserError } from './errors.ts';
// Node only: in a browser it throws (see platform/files.browser.ts).
export { writeFileAtomic } from '#platform/files';
export {
  DEFAULT_MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  type DecodeOptions,
  type DecodedSafetensors,
  type SafeDType,
  type SafeTensor,
} from './safetensors.ts';
export { renderLineChartSvg, type LineChartOptions, type LineSeries } from './plot.ts';
export { toCsv } from './csv.ts';
export { escapeXml } from './xml.ts';
export { formatTick, linearScale, logScale, niceStep, type AxisScale } from './ticks.ts';
