// Trains the same model from the same seed on the CPU and on WebGPU and prints both perplexity
// curves side by side with their relative difference: the evidence that the WebGPU kernels compute
// what the CPU kernels compute, at sizes a software GPU (lavapipe) can run in minutes.
//   node scripts/compare-devices.mjs [--hidden 64] [--epochs 20] [...any train flag]
import { buildCli } from './build.mjs';

const extra = process.argv.slice(2);
const outfile = await buildCli();
const { main } = await import(outfile);

async function curve(device) {
  const lines = [];
  const io = { out: (l) => lines.push(l), err: () => {}, tty: false };
  // Defaults the caller's own flags replace (the CLI refuses a flag given twice).
  const defaults = [['--hidden', '64'], ['--epochs', '20'], ['--pred-period', '1000']].filter(([flag]) => !extra.includes(flag));
  const args = ['train', '--device', device, '--json', ...defaults.flat(), ...extra];
  const code = await main(args, io);
  if (code !== 0) throw new Error(`train on ${device} failed with status ${code}`);
  const records = lines.map((l) => JSON.parse(l));
  return { epochs: records.filter((r) => 'epoch' in r), summary: records.find((r) => !('epoch' in r)) };
}

const cpu = await curve('cpu');
const gpu = await curve('webgpu');
console.log('| epoch | perplexity (cpu) | perplexity (webgpu) | relative difference |');
console.log('| ---: | ---: | ---: | ---: |');
let worst = 0;
cpu.epochs.forEach((c, i) => {
  const g = gpu.epochs[i];
  const rel = Math.abs(g.perplexity - c.perplexity) / c.perplexity;
  worst = Math.max(worst, rel);
  console.log(`| ${c.epoch} | ${c.perplexity.toFixed(4)} | ${g.perplexity.toFixed(4)} | ${(rel * 100).toFixed(3)}% |`);
});
console.log(`\nlargest relative difference: ${(worst * 100).toFixed(3)}%`);
console.log(`tokens/s: cpu ${Math.round(cpu.summary.tokensPerSec)}, webgpu ${Math.round(gpu.summary.tokensPerSec)}`);
process.exitCode = worst < 0.01 ? 0 : 1;
