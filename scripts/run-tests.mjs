#!/usr/bin/env node
// Runs every test/**/*.test.ts under node's own test runner with tsx, one file per process.
// TSVISION_FULL=1 (npm run test:full) also runs the extended suites that CI skips.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : collect(p);
      return name.endsWith('.test.ts') ? [p] : [];
    })
    .sort();
}

const filters = process.argv.slice(2);
const files = collect('test').filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
