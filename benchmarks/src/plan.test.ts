/** The 2-layer bidirectional LSTM and the recurrence path in the bench's flags and plans, and FLOPs per token. */
import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.ts';
import { conciseCell, describeConfig, flopsPerToken, makePlan, plannedPeers, recurrentShape } from './plan.ts';

describe('deep-bilstm in the plans', () => {
  it('is one of the default models and can be picked alone', () => {
    expect(parseArgs([]).models).toContain('deep-bilstm');
    expect(parseArgs(['--models', 'deep-bilstm']).models).toEqual(['deep-bilstm']);
  });

  it('runs in the quick plan at hidden 32 and in the full plan at hidden 256, with no peers', () => {
    const quick = makePlan(parseArgs(['--quick'])).throughput.configs.find((c) => c.model === 'deep-bilstm');
    const full = makePlan(parseArgs([])).throughput.configs.find((c) => c.model === 'deep-bilstm');
    expect(quick).toMatchObject({ hidden: 32, peers: [] });
    expect(full).toMatchObject({ hidden: 256, peers: [] });
    expect(plannedPeers(quick!, ['tfjs-cpu', 'tfjs-wasm', 'jax-wasm'])).toEqual([]);
  });

  it('leaves the other quick configs with every requested peer', () => {
    const configs = makePlan(parseArgs(['--quick'])).throughput.configs.filter((c) => c.model !== 'deep-bilstm');
    for (const c of configs) expect(plannedPeers(c, ['tfjs-cpu', 'jax-wasm'])).toEqual(['tfjs-cpu', 'jax-wasm']);
  });

  it('is an LSTM cell in 2 layers and 2 directions', () => {
    expect(conciseCell('deep-bilstm')).toBe('lstm');
    expect(recurrentShape('deep-bilstm')).toEqual({ layers: 2, directions: 2 });
    expect(recurrentShape('concise-lstm')).toEqual({ layers: 1, directions: 1 });
  });
});

describe('flopsPerToken', () => {
  it('keeps the one-layer formula 3·2·(G·(H·H + H·V) + H·V)', () => {
    expect(flopsPerToken('concise-lstm', 32, 28)).toBe(6 * (4 * (32 * 32 + 32 * 28) + 32 * 28));
    expect(flopsPerToken('scratch-rnn', 64, 28)).toBe(6 * (64 * 64 + 64 * 28 + 64 * 28));
  });

  it('counts both directions of both layers, layer 2 reading 2H inputs, and a 2H-wide output layer', () => {
    const H = 32;
    const V = 28;
    const layer1 = 2 * 4 * (H * V + H * H);
    const layer2 = 2 * 4 * (2 * H * H + H * H);
    expect(flopsPerToken('deep-bilstm', H, V)).toBe(6 * (layer1 + layer2 + 2 * H * V));
    expect(flopsPerToken('deep-bilstm', H, V)).toBe(250_368);
  });
});

describe('--recurrence', () => {
  it('puts the path on every throughput config and the scaling base, and into the label', () => {
    const plan = makePlan(parseArgs(['--quick', '--recurrence', 'sequence']));
    expect(plan.throughput.configs.every((c) => c.recurrence === 'sequence')).toBe(true);
    expect(plan.scaling.base.recurrence).toBe('sequence');
    expect(describeConfig(plan.throughput.configs[1]!)).toMatch(/ recurrence=sequence$/);
  });

  it('is absent by default (each device picks) and refuses an unknown or second path', () => {
    expect(makePlan(parseArgs(['--quick'])).throughput.configs.some((c) => c.recurrence !== undefined)).toBe(false);
    expect(() => parseArgs(['--recurrence', 'fused'])).toThrow(/unknown value "fused"/);
    expect(() => parseArgs(['--recurrence', 'kernel,steps'])).toThrow(/one path/);
  });
});
