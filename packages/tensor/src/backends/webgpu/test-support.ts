/**
 * Test helper for suites that need the raw WebGPU backend.
 *
 * Call it ONCE per test file, in `beforeAll`, and destroy the backend in `afterAll` (a live Dawn device
 * keeps the Node process running). Vitest must use the forks pool: Dawn cannot live in a worker thread.
 *
 * ```ts
 * let gpu: WebGPUBackend | null = null;
 * beforeAll(async () => { gpu = await requireWebGPU(); });
 * afterAll(() => gpu?.destroy());
 * it('adds', (ctx) => { if (gpu === null) return ctx.skip(); ... });
 * ```
 *
 * Without an adapter:
 * - under CI (`process.env.CI` set) it throws 'no WebGPU adapter found', failing the file: CI installs
 *   Mesa lavapipe precisely so that these tests run;
 * - elsewhere it prints a loud warning and returns null, so the caller skips its GPU tests.
 *
 * With an adapter it prints the adapter once (on CI without a GPU this shows 'llvmpipe').
 */
import { type WebGPUBackend, createWebGPUBackend } from './index.ts';

export async function requireWebGPU(): Promise<WebGPUBackend | null> {
  const backend = await createWebGPUBackend();
  if (backend === null) {
    if (process.env.CI) throw new Error('no WebGPU adapter found (CI requires one: install Mesa lavapipe)');
    console.warn(
      '\n' +
        '!'.repeat(78) +
        '\n!! NO WebGPU ADAPTER FOUND: the WebGPU backend tests are SKIPPED on this machine.\n' +
        '!! Install Mesa 25 lavapipe (software Vulkan) to run them; CI always does.\n' +
        '!'.repeat(78) +
        '\n',
    );
    return null;
  }
  const info = backend.adapterInfo;
  console.log(
    `[tinytape] WebGPU backend tests on: ${info.description || info.device} (vendor ${info.vendor}, ${info.architecture}, device ${info.device})`,
  );
  return backend;
}
