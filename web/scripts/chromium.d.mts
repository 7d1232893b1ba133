// Types of chromium.mjs for the TypeScript that imports it (the browser tests).
import type { BrowserContext } from 'playwright-core';

/** The Chromium binary; TINYTAPE_CHROMIUM overrides it. */
export declare const CHROMIUM: string;
/** Flags for headless Chromium on a machine without a GPU (see chromium.mjs). */
export declare function chromiumArgs(webgpu: boolean): string[];
/** A headless Chromium with a fresh profile; `close()` also removes the profile. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}
/** Starts headless Chromium with a fresh profile folder. */
export declare function launchChromium(webgpu?: boolean, options?: { viewport?: { width: number; height: number } }): Promise<Browser>;
