import { defineConfig } from 'vitest/config';

/**
 * Test groups, each runnable alone (`npm run test:unit`, `test:integration`, `test:browser`, `test:e2e`):
 * - unit: every test beside its code (anything outside test/): pure logic, one store file, an in-process
 *   simulator; seconds.
 * - integration: test/*.test.ts that drive several rooms together (driver ↔ simulator over TCP and a pty,
 *   the HTTP API over a real SQLite file).
 * - browser: test/*.browser.test.ts, the pages in a real Chromium.
 * - e2e: test/*.e2e.test.ts, the real processes started, killed and restarted.
 * A new test file lands in exactly one group by where it sits and how it is named.
 *
 * The unit group runs its files one after another in each worker process without a fresh module graph per
 * file (isolate: false): most of a small file's time was loading the same modules again (24 store and HTTP
 * files: 30 s of CPU isolated, 16 s not). A unit test therefore leaves no global behind: fake timers are
 * restored after each test, stubbed globals and environment variables are undone (below), and process-wide
 * settings it changes (umask, listeners) are put back. The other groups start processes, browsers and servers
 * and keep a fresh module graph per file.
 */
const ignored = ['node_modules/**', 'data/**', 'dist/**', 'coverage/**'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    unstubGlobals: true,
    unstubEnvs: true,
    coverage: {
      provider: 'v8',
      include: ['firmware-protocol/**/*.ts', 'controller/**/*.ts', 'sim/**/*.ts'],
      exclude: ['**/*.test.ts', '**/test-support.ts'],
      reporter: ['text-summary', 'html'],
    },
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: [...ignored, 'test/**'], isolate: false } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...ignored, 'test/**/*.browser.test.ts', 'test/**/*.e2e.test.ts'] },
      },
      { extends: true, test: { name: 'browser', include: ['test/**/*.browser.test.ts'], exclude: ignored } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], exclude: ignored } },
    ],
  },
});
