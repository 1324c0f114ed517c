/**
 * The fault harness in the suite, bounded to about a minute: SIGKILL of the controller at random moments and at
 * named steps of every door flow, jammed locks, frame loss and corruption with board reboots, a seeded workload of
 * loads, pickups, retrievals and force-opens; after every restart the promises are checked from outside.
 * `npm run faults -- --cycles 200` runs the long version.
 */
import { expect, it } from 'vitest';
import { formatFigures, runFaultHarness } from './faults/harness.js';

it('keeps every promise through SIGKILLs, jammed locks, frame loss and reboots (bounded run)', async () => {
  const seed = Number(process.env.FAULTS_SEED ?? 20261202);
  const f = await runFaultHarness({ cycles: 40, seed, budgetMs: 50_000 });
  process.stdout.write(`fault harness (seed ${seed})\n${formatFigures(f)}\n${f.problems.join('\n')}\n`);
  expect(f.cycles).toBeGreaterThanOrEqual(3);
  expect(f.operations).toBeGreaterThan(f.cycles);
  expect(f.problems).toEqual([]);
  expect({ lost: f.lost, stranded: f.stranded, doublePulses: f.doublePulses, phantomOpenings: f.phantomOpenings }).toEqual({
    lost: 0,
    stranded: 0,
    doublePulses: 0,
    phantomOpenings: 0,
  });
}, 150_000);
