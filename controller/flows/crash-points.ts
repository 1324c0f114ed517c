/**
 * Named points in the door flows where a test may have the process killed (SIGKILL), to prove
 * that start-up reconciliation leaves nothing lost or half-done. Inert unless the environment
 * variable CABINET_CRASH_AT names the point (read once at start-up); never set in production.
 */
const target = process.env.CABINET_CRASH_AT ?? '';

export function crashPoint(name: string): void {
  if (target !== '' && target === name) {
    process.stderr.write(`crash point ${name}: killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
