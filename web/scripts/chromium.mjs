// Headless Chromium for the browser tests and scripts/browser-bench.mjs: Debian's /usr/bin/chromium
// (apt-get install -y chromium) driven by playwright-core, which downloads no browser of its own.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** The Chromium binary; TINYTAPE_CHROMIUM overrides it. */
export const CHROMIUM = process.env.TINYTAPE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for headless Chromium on a machine without a GPU. `--enable-unsafe-webgpu` alone gives a WebGPU
 * adapter here (SwiftShader, Chromium's own software Vulkan: no --use-angle or --use-vulkan flag is
 * needed, and none of them makes it pick Mesa's lavapipe instead); without it `navigator.gpu` exists on
 * Linux but offers no adapter. `--no-sandbox` because CI runs as root. The rest keep the browser off
 * the network.
 */
export function chromiumArgs(webgpu) {
  return [
    '--no-sandbox',
    ...(webgpu ? ['--enable-unsafe-webgpu'] : []),
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ];
}

/**
 * Starts headless Chromium with a fresh profile folder (removed by `close()`).
 *
 * @param webgpu - start it with WebGPU enabled (false: the browser offers no adapter).
 * @throws when Chromium is not installed.
 */
export async function launchChromium(webgpu = true, { viewport = { width: 1100, height: 1400 } } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Chromium (apt-get install -y chromium), or set TINYTAPE_CHROMIUM=/path/to/chrome`);
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'tinytape-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: chromiumArgs(webgpu),
    acceptDownloads: true,
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
