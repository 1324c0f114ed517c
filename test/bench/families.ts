/**
 * Scan → door open for each lock-board family, through the whole product (HTTP on the kiosk listener, SQLite, the
 * flows, the driver, and for a vendor family the adapter) against the simulator speaking that family's bytes, paced
 * at a real 9600 Bd. A module `npm run bench` can import (`benchFamilies`), and a script on its own:
 *
 *   npx tsx test/bench/families.ts [--rounds 10]
 *
 * Per family and round: a document is loaded (door opens, item in, door shut), then its pickup code is typed at the
 * kiosk; timed from the request to (a) the simulated door springing open and (b) the kiosk's answer (which comes once
 * the controller has seen the door open). The simulated spring time (50 ms) is inside both. Our protocol's board
 * pushes a DOOR event; a vendor board is polled (LOCK_VENDOR_POLL_MS, default 100 ms), so (b) − (a) shows the poll.
 */
import { performance } from 'node:perf_hooks';
import { reconcile } from '../../controller/flows/reconcile.js';
import { silentLogger } from '../../controller/log.js';
import { listNotifications, readNotificationSecret } from '../../controller/store/index.js';
import { BOARD_FAMILIES, type BoardFamily } from '../../firmware-protocol/vendors/index.js';
import { startTestApp, uniqueIdNumber, type TestApp } from '../app-harness.js';
import { waitFor } from '../harness.js';

export interface FamilyFigure {
  family: BoardFamily;
  rounds: number;
  /** Request → simulated door open, ms. */
  doorOpenP50: number;
  doorOpenP95: number;
  /** Request → the kiosk's answer "door open", ms. */
  answerP50: number;
  answerP95: number;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

let people = 0;

async function loaded(h: TestApp, staff: Awaited<ReturnType<TestApp['staffSession']>>): Promise<{ no: number; code: string; last4: string }> {
  const n = ++people;
  const mobile = `137${String(10_000_000 + n).slice(-8)}`;
  const sub = await h.api.post<{ requestId: number }>('/api/requests', {
    body: {
      name: '李明',
      mobile,
      idNumber: uniqueIdNumber(5000 + n),
      address: { building: '1', unit: '1', room: '101' },
      serviceCode: 'residence_certificate',
    },
  });
  if (sub.status !== 201) throw new Error(`submit answered ${sub.status}`);
  const id = sub.body.requestId;
  for (const step of ['accept', 'ready']) await staff.api.post(`/api/staff/requests/${id}/${step}`, { body: {} });
  const load = await staff.api.post<{ opened: boolean; compartment: number }>(`/api/staff/requests/${id}/load`);
  if (!load.body.opened) throw new Error('the load did not open a door');
  const no = load.body.compartment;
  h.cabinet.putItem(no);
  h.cabinet.closeDoor(no);
  const note = await waitFor(
    () => listNotifications(h.store.ctx, { requestId: id }).find((x) => readNotificationSecret(h.store.ctx, x.id)),
    'the pickup code',
    10_000,
  );
  return { no, code: readNotificationSecret(h.store.ctx, note.id)!.code, last4: mobile.slice(-4) };
}

export async function benchFamily(family: BoardFamily, rounds = 10): Promise<FamilyFigure> {
  const h = await startTestApp({ family, sim: { baudRate: 9600, faults: { pacing: true } }, env: { LOCK_POLL_MS: '60000' } });
  try {
    await waitFor(() => h.driver.snapshot().compartments.every((c) => c.door !== 'unknown'), 'the boards read', 10_000);
    await reconcile(h.flows, { store: h.store, driver: h.driver, bus: h.bus, config: h.deps.config, logger: silentLogger() });
    const staff = await h.staffSession('admin');
    const open: number[] = [];
    const answer: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const p = await loaded(h, staff);
      await new Promise((r) => setTimeout(r, 400)); // a resident comes after the loading pulse is over
      let openedAt = 0;
      const onChange = (c: { reason: string; compartment?: number }) => {
        if (c.reason === 'door' && c.compartment === p.no && h.cabinet.compartment(p.no).doorOpen && !openedAt) openedAt = performance.now();
      };
      h.cabinet.on('change', onChange);
      const t0 = performance.now();
      const r = await h.kiosk.post<{ ok: boolean }>('/api/kiosk/pickup', { body: { code: p.code, phoneLast4: p.last4 } });
      const t1 = performance.now();
      h.cabinet.off('change', onChange);
      if (!r.body.ok || !openedAt) throw new Error(`${family}: the pickup did not open door ${p.no}`);
      open.push(openedAt - t0);
      answer.push(t1 - t0);
      h.cabinet.takeItem(p.no);
      h.cabinet.closeDoor(p.no);
      await waitFor(() => h.driver.snapshot().compartments[p.no - 1]?.door === 'closed', 'the door seen shut', 5000);
      await new Promise((r) => setTimeout(r, 300));
    }
    return {
      family,
      rounds,
      doorOpenP50: quantile(open, 0.5),
      doorOpenP95: quantile(open, 0.95),
      answerP50: quantile(answer, 0.5),
      answerP95: quantile(answer, 0.95),
    };
  } finally {
    await h.close();
  }
}

/** Every family, our protocol first. */
export async function benchFamilies(rounds = 10): Promise<FamilyFigure[]> {
  const out: FamilyFigure[] = [];
  for (const f of BOARD_FAMILIES) out.push(await benchFamily(f, rounds));
  return out;
}

export function familiesTable(figures: FamilyFigure[]): string {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  return [
    '| board family (paced 9600 Bd) | scan → door open, p50 / p95 | scan → kiosk answer, p50 / p95 | rounds |',
    '| --- | --- | --- | --- |',
    ...figures.map((f) => `| ${f.family} | ${ms(f.doorOpenP50)} / ${ms(f.doorOpenP95)} | ${ms(f.answerP50)} / ${ms(f.answerP95)} | ${f.rounds} |`),
  ].join('\n');
}

if (process.argv[1]?.endsWith('families.ts')) {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Number(process.argv[i + 1]) : 10;
  benchFamilies(rounds).then(
    (f) => console.log(familiesTable(f)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
