// Test tiers, one vitest project each (run one with `npm run test:<tier>`, all with `npm test`):
//   unit         no Redis, no processes
//   integration  a private redis-server per file, the code under test in the test process
//   e2e          spawns the built `verk` binary (bin/verk.js → dist/)
//   fault        crashes, kills and partitions against real processes
//   property     fast-check properties (of the Lua scripts against a private redis-server)
// The tiers that run dist/ build it first when it is older than src/ (test/setup/fresh-dist.ts).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const TIERS = ['unit', 'integration', 'e2e', 'fault', 'property'];
const FRESH_DIST = ['test/setup/fresh-dist.ts'];

// A test file outside the tier folders would silently never run: refuse to start instead.
const strays = (fs.readdirSync(fileURLToPath(new URL('test/', import.meta.url)), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.test.ts') && !TIERS.includes(f.split(path.sep)[0]))
  .map((f) => `test/${f}`);
if (strays.length > 0) throw new Error(`test files outside the tiers (test/{${TIERS.join(',')}}/) would never run: ${strays.join(', ')}`);

const tier = (name: string, globalSetup: string[] = []) => ({
  extends: true as const,
  test: { name, include: [`test/${name}/**/*.test.ts`], globalSetup },
});

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // e2e files start several processes each; keep the 2-core machine from thrashing.
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
    projects: [tier('unit'), tier('integration'), tier('e2e', FRESH_DIST), tier('fault', FRESH_DIST), tier('property')],
  },
});
