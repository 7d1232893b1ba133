#!/usr/bin/env node
// The `tinytape` command. It loads the built CLI (dist/node/cli.js, from `pnpm build`); in the
// workspace, `pnpm train` and `pnpm generate` run the CLI from its sources instead.
try {
  await import('../dist/node/cli.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli.js')) {
    console.error('tinytape: the CLI is not built here; run `pnpm build` (or use `pnpm train` in the workspace)');
    process.exit(2);
  }
  throw error;
}
