/**
 * `npm run faults -- [--cycles 200] [--seed 1] [--minutes M] [--protocol 1|2]`: the fault harness (test/faults/harness.ts) for as many
 * SIGKILL cycles as asked; prints progress and the figures; exit code 1 on any broken promise.
 */
import { formatFigures, runFaultHarness } from './harness.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`--${name} needs a number\n`);
    process.exit(2);
  }
  return v;
}

const cycles = arg('cycles', 200);
const seed = arg('seed', 1);
const minutes = arg('minutes', 0);
const protocol = arg('protocol', 1);
if (protocol !== 1 && protocol !== 2) {
  process.stderr.write('--protocol is 1 or 2\n');
  process.exit(2);
}
const t0 = Date.now();
const f = await runFaultHarness({
  cycles,
  seed,
  protocol,
  ...(minutes > 0 ? { budgetMs: minutes * 60_000 } : {}),
  log: (l) => process.stdout.write(`${l}\n`),
});
process.stdout.write(`\nfault harness, seed ${seed}, protocol ${protocol}, ${Math.round((Date.now() - t0) / 1000)} s\n${formatFigures(f)}\n`);
for (const p of f.problems.slice(0, 50)) process.stdout.write(`  ${p}\n`);
process.exit(f.problems.length === 0 ? 0 : 1);
