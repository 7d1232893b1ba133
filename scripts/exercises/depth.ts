/**
 * Exercise (b) of docs/exercises.md: a deeper RNN. Trains the same concise model with 1 and with 2 layers
 * (any train flag applies to both runs) through the CLI's own `main`, as scripts/compare-devices.mjs does,
 * and draws both perplexity curves in one chart.
 *
 *   node scripts/exercise-depth.mjs [--depths 1,2] [--out-dir docs/exercises] [--name depth] [...train flags]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { main as cli } from '../../packages/rnn/src/cli/main.ts';
import { renderLineChartSvg, toCsv, writeFileAtomic } from '../../packages/rnn/src/io/plot.ts';
import { FlagError } from './flags.ts';

interface Curve {
  layers: number;
  epochs: { epoch: number; perplexity: number; tokensPerSec: number }[];
  summary: { perplexity: number; tokensPerSec: number; samples: Record<string, string> };
}

/** Takes this script's own flags out of `argv`; the rest go to `tinytape train`. */
function split(argv: string[]): { depths: number[]; outDir: string; name: string; train: string[] } {
  const own: Record<string, string> = { depths: '1,2', 'out-dir': 'docs/exercises', name: 'depth' };
  const train: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!.replace(/^--/, '');
    if (argv[i]!.startsWith('--') && flag in own) {
      const value = argv[++i];
      if (value === undefined) throw new FlagError(`--${flag}: missing value`);
      own[flag] = value;
    } else {
      train.push(argv[i]!);
    }
  }
  if (train.includes('--layers')) throw new FlagError('--layers: give the depths with --depths 1,2');
  const depths = own.depths!.split(',').map(Number);
  if (depths.some((d) => !Number.isInteger(d) || d < 1)) throw new FlagError(`--depths: expected positive integers like 1,2, got "${own.depths}"`);
  return { depths, outDir: own['out-dir']!, name: own.name!, train };
}

async function curve(layers: number, flags: string[]): Promise<Curve> {
  const lines: string[] = [];
  // Progress notes and the printed predictions go to stderr, so a long run still shows it is alive.
  const io = { out: (l: string) => lines.push(l), err: (l: string) => console.error(l), tty: false };
  // The concise RNN of d2l §8.6 on the CPU unless the flags say otherwise (the CLI refuses a repeated flag).
  const defaults = Object.entries({ '--model': 'rnn', '--hidden': '256', '--device': 'cpu' }).filter(([f]) => !flags.includes(f)).flat();
  const code = await cli(['train', ...defaults, ...flags, '--layers', String(layers), '--json'], io);
  // The CLI has printed its own one-line reason already.
  if (code !== 0) throw new FlagError(`train with --layers ${layers} failed with status ${code}`);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    layers,
    epochs: records.filter((r) => 'epoch' in r) as unknown as Curve['epochs'],
    summary: records.find((r) => !('epoch' in r)) as unknown as Curve['summary'],
  };
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log('Usage: node scripts/exercise-depth.mjs [--depths 1,2] [--out-dir docs/exercises] [--name depth] [...tinytape train flags]');
    return 0;
  }
  const { depths, outDir, name, train } = split(argv);
  const curves: Curve[] = [];
  for (const layers of depths) {
    const c = await curve(layers, train);
    curves.push(c);
    const last = c.epochs.at(-1)!;
    console.log(`${layers} layer(s): perplexity ${c.summary.perplexity.toFixed(2)} after ${last.epoch} epochs, ${Math.round(c.summary.tokensPerSec)} tokens/s`);
    for (const [prefix, text] of Object.entries(c.summary.samples)) console.log(`  ${JSON.stringify(prefix)} -> ${text}`);
  }
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, `${name}.svg`), renderLineChartSvg({
    title: `concise RNN, ${depths.join(' vs ')} layers: training perplexity`,
    xLabel: 'epoch',
    yLabel: 'perplexity',
    yLog: true,
    series: curves.map((c) => ({ name: `${c.layers} layer${c.layers > 1 ? 's' : ''}`, points: c.epochs.map((r) => [r.epoch, r.perplexity] as [number, number]) })),
  }));
  await writeFileAtomic(path.join(outDir, `${name}.csv`), toCsv(
    ['epoch', ...curves.map((c) => `perplexity_${c.layers}layer`)],
    curves[0]!.epochs.map((r, i) => [r.epoch, ...curves.map((c) => c.epochs[i]?.perplexity ?? Number.NaN)]),
  ));
  console.log(`wrote ${path.join(outDir, `${name}.svg`)}, ${path.join(outDir, `${name}.csv`)}`);
  return 0;
}
