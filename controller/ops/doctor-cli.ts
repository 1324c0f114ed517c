/** `npm run doctor [-- --test-doors] [--json]`: prints the findings; exit 0 ok, 1 warnings, 2 problems. */
import { parseArgs } from 'node:util';
import { exitCode, formatFindings, runDoctor } from './doctor.js';

export async function runDoctorCli(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'test-doors': { type: 'boolean' }, json: { type: 'boolean' } }, strict: true });
  const testDoors = values['test-doors'] === true;
  if (testDoors) {
    process.stdout.write(
      '逐门测试：每个柜门将依次开锁。请工作人员在柜前，每扇门打开后关上。\n' +
        'Door test: each lock opens in turn. Staff at the cabinet: close each door after it opens.\n',
    );
  }
  const findings = await runDoctor({
    env: process.env,
    testDoors,
    onDoorTest: (n, phase) => {
      if (phase === 'unlocking') process.stdout.write(`  柜格 ${n} 开锁 / unlocking ${n} … `);
      else process.stdout.write('已打开，请关门 / open, close it please\n');
    },
  });
  const now = new Date();
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ at: now.toISOString(), exitCode: exitCode(findings), findings }, null, 2)}\n`
      : `${formatFindings(findings, now)}\n`,
  );
  return exitCode(findings);
}
