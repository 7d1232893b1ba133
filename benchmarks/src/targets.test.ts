/**
 * The WebGPU targets `--strict` checks, on small fake results: a run at or under its dispatch target
 * passes, one above fails with a message naming model, measured count and target, scratch-rnn has
 * no target, and a WebGPU ÷ CPU ratio below its floor only warns.
 */
import { describe, expect, it } from 'vitest';
import type { ModelName } from './args.ts';
import { type CheckedResult, DISPATCH_TARGETS, annotateTargets, dispatchMisses, dispatchTarget, ratioWarnings, webgpuCpuFloor } from './targets.ts';

/** A result with tinytape on both devices, the WebGPU run needing `dispatchesPerStep`, WebGPU at `ratio` × the CPU's tokens/s. */
function fake(model: ModelName, dispatchesPerStep: number, ratio = 0.5, status: 'ok' | 'failed' = 'ok'): CheckedResult {
  return {
    label: `${model} H=32`,
    config: { model },
    runs: [
      { name: 'tinytape/cpu', status: 'ok' },
      { name: 'tinytape/webgpu', status, gpu: status === 'ok' ? { dispatchesPerStep } : undefined },
    ],
    ratios: [{ of: 'tinytape/webgpu', to: 'tinytape/cpu', ratio }],
  };
}

describe('dispatch targets', () => {
  it('has the issue\'s targets, and none for the scratch RNN', () => {
    expect(DISPATCH_TARGETS).toEqual({ 'concise-rnn': 20, 'concise-gru': 25, 'concise-lstm': 25, 'deep-bilstm': 60 });
    expect(dispatchTarget('scratch-rnn')).toBeNull();
  });

  it('passes runs at or under their target', () => {
    expect(dispatchMisses([fake('concise-rnn', 20), fake('concise-gru', 12.5), fake('concise-lstm', 25), fake('deep-bilstm', 60)])).toEqual([]);
  });

  it('fails a run above its target, naming model, measured count and target', () => {
    const misses = dispatchMisses([fake('concise-rnn', 18), fake('concise-lstm', 58.5), fake('deep-bilstm', 186)]);
    expect(misses.map(({ model, contender, measured, target }) => ({ model, contender, measured, target }))).toEqual([
      { model: 'concise-lstm', contender: 'tinytape/webgpu', measured: 58.5, target: 25 },
      { model: 'deep-bilstm', contender: 'tinytape/webgpu', measured: 186, target: 60 },
    ]);
    expect(misses[0]!.message).toBe('concise-lstm H=32: tinytape/webgpu needs 58.5 dispatches per training step, above the target of 25 for concise-lstm');
    expect(misses[1]!.message).toContain('186 dispatches');
  });

  it('never fails the scratch RNN, whatever its count', () => {
    expect(dispatchMisses([fake('scratch-rnn', 917)])).toEqual([]);
  });

  it('leaves failed runs and runs without WebGPU counters to the other checks', () => {
    const cpuOnly: CheckedResult = { ...fake('concise-rnn', 0), runs: [{ name: 'tinytape/cpu', status: 'ok' }] };
    expect(dispatchMisses([fake('concise-rnn', 0, 0.5, 'failed'), cpuOnly])).toEqual([]);
  });
});

describe('annotateTargets', () => {
  it('writes each WebGPU run\'s target (null without one) and the WebGPU ÷ CPU ratio with its quick floor', () => {
    const results = [fake('scratch-rnn', 917, 0.26), fake('concise-gru', 58.5, 0.3), fake('deep-bilstm', 186, 0.27)];
    annotateTargets(results, 'quick');
    expect(results.map((t) => t.runs[1]!.gpu!.dispatchTarget)).toEqual([null, 25, 60]);
    expect(results.map((t) => t.webgpuCpu)).toEqual([
      { ratio: 0.26, floor: null },
      { ratio: 0.3, floor: 0.103 },
      { ratio: 0.27, floor: null },
    ]);
    // JSON.stringify keeps a null target, so the JSON says "no target" rather than leaving the field out.
    expect(JSON.parse(JSON.stringify(results[0]!.runs[1]!.gpu))).toEqual({ dispatchesPerStep: 917, dispatchTarget: null });
  });

  it('holds the full bench to no floor (the floors were set at the quick sizes)', () => {
    expect(webgpuCpuFloor('concise-rnn', 'quick')).toBe(0.086);
    expect(webgpuCpuFloor('concise-lstm', 'quick')).toBe(0.137);
    expect(webgpuCpuFloor('concise-rnn', 'full')).toBeNull();
  });

  it('sets no ratio when only one device ran', () => {
    const t: CheckedResult = { ...fake('concise-rnn', 30), ratios: [] };
    annotateTargets([t], 'quick');
    expect(t.webgpuCpu).toBeUndefined();
  });
});

describe('ratioWarnings', () => {
  it('warns below the floor only, and not for models without one', () => {
    const results = [fake('concise-rnn', 20, 0.05), fake('concise-gru', 20, 0.103), fake('concise-lstm', 20, 0.2), fake('deep-bilstm', 20, 0.01)];
    annotateTargets(results, 'quick');
    const warnings = ratioWarnings(results);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('concise-rnn H=32');
    expect(warnings[0]).toContain('0.050 is below the floor of 0.086');
  });

  it('does not warn in the full bench', () => {
    const results = [fake('concise-rnn', 20, 0.01)];
    annotateTargets(results, 'full');
    expect(ratioWarnings(results)).toEqual([]);
  });
});
