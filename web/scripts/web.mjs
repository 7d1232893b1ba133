// `pnpm web [--port N] [--data-dir DIR]`: bundles the command (web/server/, TypeScript) the way
// scripts/cli.mjs bundles the CLI, then runs it: it builds the page and serves it until Ctrl-C.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForNode, devBundleDir } from '../../scripts/build.mjs';
import { PAGE_FILES, buildPage } from './build.mjs';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = await bundleForNode(path.join(webDir, 'server/web-command.ts'), path.join(devBundleDir, 'web.mjs'));
const { main } = await import(bundle);
process.exitCode = await main(process.argv.slice(2), { build: () => buildPage(), files: PAGE_FILES });
