// Types of build.mjs for the TypeScript that imports it (the browser tests).

/** Where `pnpm web` builds the page. */
export declare const DEFAULT_OUT_DIR: string;
/** The files a built page consists of (all the server serves from the build folder). */
export declare const PAGE_FILES: readonly string[];
/** Builds the page into `outDir` (emptied first) and returns the folder. */
export declare function buildPage(outDir?: string, options?: { minify?: boolean }): Promise<string>;
