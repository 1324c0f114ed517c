/**
 * The second step of `npm run build` (run from the checkout): the controller as one bundle, dist/controller/main.js, in place of the
 * per-file main.js tsc wrote (every path that starts it stays the same: `npm run start:prod`, the systemd unit).
 *
 * Why: at start-up node spent most of its time loading modules — resolving, reading and parsing about 300 files,
 * most of them in node_modules — before the controller could listen. One file (and a chunk for what only the
 * embedded simulator needs, loaded when LOCK_PORT=sim) takes about 40 % less CPU to load.
 *
 * Left outside the bundle: the packages with native code (better-sqlite3, serialport), found in node_modules as
 * before; the word catalogue's language files (controller/words/catalogue.ts reads the folder tsc wrote); the
 * pages and the simulator panel's files (found in the checkout, as before). The rest of dist/ from tsc stays.
 */
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** `node deploy/bundle.mjs [folder]`: the folder tsc wrote into (dist by default). */
const out = process.argv[2] ?? 'dist';
// the chunks of an earlier build (their names carry a hash of their content) would stay beside the new ones
fs.rmSync(path.join(out, 'controller', 'chunks'), { recursive: true, force: true });

await build({
  entryPoints: { main: 'controller/main.ts' },
  outdir: path.join(out, 'controller'),
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'serialport', '@serialport/*'],
  // packages written as CommonJS call require() for node's own modules: give the bundle one
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
});
