/**
 * The fault harness in the suite, bounded by time: SIGKILLs of the controller at named steps of the door flows (from a
 * point that moves on by one each day, so that successive runs of the suite cover them all; FAULTS_FIRST_POINT picks
 * it) and at random moments, jammed locks, frame loss and corruption with board reboots, a full disk and wall-clock
 * jumps, with a seeded workload of loads, pickups, drop-offs, retrievals and force-opens; after every restart the
 * promises are checked from outside. Each kill costs a controller start (about 1 s on an idle 2-core PC, several under
 * load), so the suite's run reaches a few steps; `npm run faults -- --cycles 200` reaches every step, several times.
 */
import { expect, it } from 'vitest';
import { CRASH_POINTS, formatFigures, runFaultHarness } from './faults/harness.js';

it('keeps every promise through SIGKILLs at named steps, jammed locks, frame loss, a full disk and clock jumps (bounded run)', async () => {
  const day = Math.floor(Date.now() / 86_400_000);
  const seed = Number(process.env.FAULTS_SEED ?? day);
  const firstPoint = Number(process.env.FAULTS_FIRST_POINT ?? (day * 4) % CRASH_POINTS.length);
  const f = await runFaultHarness({ cycles: CRASH_POINTS.length, seed, firstPoint, budgetMs: 5_000, warm: 2 });
  process.stdout.write(`fault harness (seed ${seed}, from ${CRASH_POINTS[firstPoint]})\n${formatFigures(f)}\n${f.problems.join('\n')}\n`);
  expect(f.cycles).toBeGreaterThanOrEqual(1);
  expect(f.problems).toEqual([]);
  expect({ lost: f.lost, stranded: f.stranded, doublePulses: f.doublePulses, phantomOpenings: f.phantomOpenings }).toEqual({
    lost: 0,
    stranded: 0,
    doublePulses: 0,
    phantomOpenings: 0,
  });
}, 120_000);
