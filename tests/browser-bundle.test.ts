/*
 * Each package's browser entry bundles for a browser (esbuild --bundle --platform=browser) with no
 * Node built-in anywhere in the graph: what needs Node (files, the download cache, Dawn, worker_threads)
 * sits behind the `node` condition in platform/*.node.ts, and a browser bundle gets platform/*.browser.ts.
 */
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles `entry` for the browser the way an app's bundler would, from the workspace's sources. */
async function bundleForBrowser(entry: string) {
  const result = await build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    conditions: ['tinytape-source'],
    logLevel: 'silent',
  });
  return { text: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs), errors: result.errors };
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

describe.each(['tensor', 'autograd', 'data', 'rnn'])('@tinytape/%s for browsers', (name) => {
  it('bundles with no Node built-in and no Node-only platform module', async () => {
    const { text, inputs, errors } = await bundleForBrowser(`packages/${name}/src/index.ts`);
    expect(errors).toEqual([]);
    expect(inputs.filter((i) => builtins.has(i))).toEqual([]);
    expect(inputs.filter((i) => /\.node\.ts$/.test(i))).toEqual([]);
    // Not even as a string handed to a loader (process.getBuiltinModule, require).
    expect(text.match(/["'`]node:[a-z_/]+/g) ?? []).toEqual([]);
    expect(text).not.toMatch(/\brequire\(/);
    // The bundle is not empty: it holds the package's code.
    expect(text.length).toBeGreaterThan(10_000);
  });
});

describe('the Node build, for contrast', () => {
  it('picks the Node platform modules', async () => {
    const result = await build({
      entryPoints: [path.join(root, 'packages/data/src/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      conditions: ['tinytape-source'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.endsWith('platform/files.node.ts'))).toBe(true);
    expect(inputs.some((i) => i.endsWith('platform/files.browser.ts'))).toBe(false);
  });
});
