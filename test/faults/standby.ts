/**
 * A controller started ahead of time, for the fault harness: this process loads every module of the controller, then
 * waits for one line on stdin — a JSON object `{ env, clockOffsetMs }` — sets that environment and runs the controller
 * as `npm start` does (controller/main.ts main), with its store's clock `clockOffsetMs` away from the system clock.
 * Loading the modules is most of a start; the harness has the next controller load them while the current one runs,
 * so a restart after a SIGKILL costs only the start proper.
 *
 * Later lines drive test-only faults, honoured here and nowhere in the product:
 *   {"jump": ms}          the store's clock jumps by ms (forward or back), as NTP or an RTC reset would
 *   {"diskFull": true}    the database may not grow by a page (PRAGMA max_page_count = its size now): SQLITE_FULL
 *   {"diskFull": false}   room again
 */
import { createInterface } from 'node:readline';
import { main } from '../../controller/main.js';

const offset = { ms: 0 };
let controller: Awaited<ReturnType<typeof main>> | null = null;
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let msg: { env?: Record<string, string>; clockOffsetMs?: number; jump?: number; diskFull?: boolean };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    process.stderr.write(`standby: not JSON: ${line}\n`);
    return;
  }
  if (msg.env) {
    Object.assign(process.env, msg.env);
    offset.ms = msg.clockOffsetMs ?? 0;
    void main({ now: () => Date.now() + offset.ms }).then((c) => {
      controller = c;
    });
    return;
  }
  if (msg.jump !== undefined) offset.ms += msg.jump;
  if (msg.diskFull !== undefined && controller) {
    const db = controller.store.db;
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.pragma(`max_page_count = ${msg.diskFull ? pages : 1_073_741_823}`);
  }
  process.stdout.write(`standby: done ${line}\n`);
});
process.stdout.write('standby: loaded\n');
// The harness going away ends a standby that was never told to start.
lines.on('close', () => {
  if (!controller) process.exit(0);
});
