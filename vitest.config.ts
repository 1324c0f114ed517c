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
 * The unit and integration groups run their files one after another in each worker process without a fresh
 * module graph per file (isolate: false): most of a small file's time was loading the same modules again
 * (unit group on a shared 2-core machine: 335 s wall / 60 s CPU isolated, 176 s / 28 s not; integration group:
 * 187 s / import 29 s isolated, 147 s / import 9 s not). A test therefore leaves no global behind: fake timers are
 * restored after each test, stubbed globals and environment variables are undone (below), process-wide settings
 * it changes are put back, and what it starts it stops. (The controller's start sets the umask to 077 for the
 * whole worker: a test that needs another umask sets it and puts it back, as db.test.ts does.) The browser and
 * end-to-end groups keep a fresh module graph per file.
 */
const ignored = ['node_modules/**', 'data/**', 'dist/**', 'coverage/**'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // expect.poll waits for what a page or a process shows: on a loaded machine a door flow can take more than the
    // default second; a poll that never succeeds still fails, only later
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    // Two files at a time. Vitest's default is one fewer than the cores, which is one on a 2-core cabinet PC or CI
    // machine: most of the suite's time is waiting (door deadlines, a browser, a child process starting), and one
    // file at a time left a core idle two thirds of the run (CPU 257 s in 394 s of wall time).
    maxWorkers: 2,
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
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...ignored, 'test/**/*.browser.test.ts', 'test/**/*.e2e.test.ts'],
          isolate: false,
        },
      },
      {
        extends: true,
        // a page test drives a real Chromium beside another test file: under that load a whole staff-console flow
        // takes longer than the default 20 s, and so can starting a browser and a controller before the tests
        test: { name: 'browser', include: ['test/**/*.browser.test.ts'], exclude: ignored, testTimeout: 60_000, hookTimeout: 60_000 },
      },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], exclude: ignored } },
    ],
  },
});
