/**
 * Named points in the door flows where a test may have the process killed (SIGKILL), to prove
 * that start-up reconciliation leaves nothing lost or half-done. Inert unless the environment
 * variable CABINET_CRASH_AT names the point; never set in production. (Read at each point, so a
 * process that was started before it was told where to crash still honours it: the fault harness
 * starts its controllers ahead of time.)
 *
 * CRASH_POINTS lists every one, flow by flow: the fault harness arms each in turn.
 */
export const CRASH_POINTS = [
  'load.reserved',
  'load.started',
  'load.intent',
  'load.unlocked',
  'load.door_open',
  'load.done',
  'pickup.intent',
  'pickup.unlocked',
  'pickup.door_open',
  'pickup.collected',
  'deposit.intent',
  'deposit.unlocked',
  'deposit.door_open',
  'deposit.done',
  'retrieve.intent',
  'retrieve.unlocked',
  'retrieve.door_open',
  'retrieve.done',
  'retrieve_materials.intent',
  'retrieve_materials.unlocked',
  'retrieve_materials.door_open',
  'retrieve_materials.done',
  'staff_open.intent',
  'staff_open.unlocked',
  'staff_open.door_open',
  'door_closed',
] as const;

export type CrashPointName = (typeof CRASH_POINTS)[number] | `fault_check.${'intent' | 'unlocked' | 'door_open'}`;

export function crashPoint(name: CrashPointName): void {
  const target = process.env.CABINET_CRASH_AT;
  if (target && target === name) {
    process.stderr.write(`crash point ${name}: killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
