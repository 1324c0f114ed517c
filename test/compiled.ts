/**
 * The product's sources compiled once to JavaScript for tests that start its processes many times (a crash
 * test starts the controller dozens of times): node then starts the JavaScript directly, as `npm run
 * start:prod` does, instead of loading tsx and compiling in every child process.
 *
 * Each source file is turned into JavaScript on its own by esbuild — the compiler tsx itself uses, so the
 * program is the one `npm start` runs — into .tmp/js-<hash of the sources>/, beside the sources' folders at the
 * same depth as the build test's output, so the pages and the simulator panel are found in the checkout as the
 * built controller finds them. Workers and test files share one compilation; a change to any source file makes
 * a new one. test/start.e2e.test.ts still starts `npm start` itself (tsx) and test/build.e2e.test.ts the tsc
 * build.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build, version } from 'esbuild';
import { ROOT, runNode, type Running } from './processes.js';

const SOURCE_DIRS = ['firmware-protocol', 'controller', 'sim'];
/** Test entry points that start the product's code in a child process (the fault harness's controller loaded ahead). */
const TEST_ENTRIES = ['test/faults/standby.ts'];
const isSource = (rel: string) => rel.endsWith('.ts') && !rel.endsWith('.d.ts') && !rel.endsWith('.test.ts') && !rel.includes('/test/');

let compiled: Promise<string> | null = null;

/** The folder holding the compiled sources (controller/, sim/, firmware-protocol/), compiling them if needed. */
export function compiledRoot(): Promise<string> {
  compiled ??= compile();
  return compiled;
}

/** The compiled JavaScript of an entry point given as a source path, e.g. 'controller/main.ts'. */
export async function compiledEntry(entry: string): Promise<string> {
  return path.join(await compiledRoot(), entry.replace(/\.ts$/, '.js'));
}

async function compile(): Promise<string> {
  const files: string[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const f of fs.readdirSync(path.join(ROOT, dir), { recursive: true })) {
      const rel = `${dir}/${String(f)}`;
      if (isSource(rel)) files.push(rel);
    }
  }
  files.push(...TEST_ENTRIES);
  files.sort();
  const hash = createHash('sha256').update(version);
  for (const f of files)
    hash
      .update(f)
      .update('\0')
      .update(fs.readFileSync(path.join(ROOT, f)))
      .update('\0');
  const tmp = path.join(ROOT, '.tmp');
  const out = path.join(tmp, `js-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(path.join(out, 'controller', 'main.js'))) return out;

  // Compile beside the final folder, then rename: another test process compiling at the same time loses the race harmlessly.
  fs.mkdirSync(tmp, { recursive: true });
  const building = `${out}.${process.pid}`;
  await build({
    absWorkingDir: ROOT,
    entryPoints: files,
    outdir: building,
    outbase: '.',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: false,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  try {
    fs.renameSync(building, out);
  } catch (e) {
    fs.rmSync(building, { recursive: true, force: true });
    if (!fs.existsSync(path.join(out, 'controller', 'main.js'))) throw e;
  }
  // Compilations of older sources are of no further use once no test can still be running them: a source changed
  // while the suite runs (a checkout updated meanwhile) makes a new one, and a test still starting the previous one
  // must find it, so only those untouched for an hour go.
  const hourAgo = Date.now() - 3_600_000;
  for (const old of fs.readdirSync(tmp)) {
    const dir = path.join(tmp, old);
    if (/^js-[0-9a-f]{16}$/.test(old) && dir !== out && fs.statSync(dir).mtimeMs < hourAgo) fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** Like run() in processes.ts, on the compiled JavaScript of the entry point. */
export async function runCompiled(entry: string, args: string[], env: Record<string, string>, opts: { stdin?: boolean } = {}): Promise<Running> {
  return runNode(['--enable-source-maps', await compiledEntry(entry), ...args], env, opts);
}
