#!/usr/bin/env node
// The `tsvision` command. The CLI is TypeScript; tsx compiles it on load, the same way from this
// repository and from an installed package's node_modules.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
