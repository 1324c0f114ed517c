/**
 * What the unlock path commits before the unlock's bytes go out (docs/adr/0005-unlock-commits.md): on an idle bus
 * one commit — the kiosk's credential check, a drop-off's reservation, the unlock intent, "opening" and the claim
 * "sent" — durable before the frame; behind another command the intent commits at once and the claim when the bus
 * is free; and an unlock whose intent could not be committed never goes out, even after the bus frees.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/harness.js';
import { residentActor, staffActor, SYSTEM_ACTOR } from '../domain/types.js';
import {
  createRequest,
  DB_FILE,
  holdCommit,
  issueDepositCode,
  listNotifications,
  readNotificationSecret,
  transitionRequest,
} from '../store/index.js';
import { makeResident, walCommits } from '../store/test-support.js';
import { readyRequest, world, type Cleanups, type World } from './test-support.js';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** What another connection (a restart) would find at the moment the board receives the unlock frame. */
interface AtFrame {
  commits: number;
  intent: { status: string; seq: number | null; compartment_no: number } | undefined;
  compartment: string | undefined;
  actions: string[];
}

function watchUnlockFrame(w: World): { seen: AtFrame[] } {
  const reader = new Database(path.join(w.store.dir, DB_FILE), { readonly: true });
  cleanups.push(() => void reader.close());
  w.store.db.pragma('wal_checkpoint(TRUNCATE)');
  const seen: AtFrame[] = [];
  const onUnlock = (u: { compartment: number }) => {
    seen.push({
      commits: walCommits(w.store.dir),
      intent: reader
        .prepare('SELECT status, seq, compartment_no FROM unlock_intents WHERE compartment_no = ? ORDER BY id DESC LIMIT 1')
        .get(u.compartment) as AtFrame['intent'],
      compartment: (reader.prepare('SELECT state FROM compartments WHERE no = ?').get(u.compartment) as { state: string } | undefined)?.state,
      actions: (reader.prepare('SELECT action FROM audit_log ORDER BY id').all() as { action: string }[]).map((r) => r.action),
    });
  };
  w.sim.on('unlock', onUnlock);
  cleanups.push(() => void w.sim.off('unlock', onUnlock));
  return { seen };
}

async function loadedWithCode(w: World): Promise<{ no: number; code: string; last4: string }> {
  const r = readyRequest(w);
  const answer = await w.flows.load(w.staffId, r.requestId);
  const no = answer.compartment!;
  w.sim.putItem(no);
  w.sim.closeDoor(no);
  expect(await answer.done).toBe('loaded');
  const n = listNotifications(w.store.ctx, { requestId: r.requestId }).find((x) => x.kind === 'ready_with_code')!;
  return { no, code: readNotificationSecret(w.store.ctx, n.id)!.code, last4: r.resident.mobile.slice(-4) };
}

/** Until nothing is in flight or waiting on the bus (a STATUS read is the last command). */
async function busIdle(w: World): Promise<void> {
  await w.driver.readCompartment(1);
}

describe('before the unlock frame goes out', () => {
  it('a typed pickup code on an idle bus: the check, the intent, "opening" and the claim "sent" are one commit', async () => {
    const w = await world(cleanups);
    const p = await loadedWithCode(w);
    await busIdle(w);
    const { seen } = watchUnlockFrame(w);
    const answer = await w.flows.pickupByCode(p.code, p.last4, 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, compartments: [p.no] });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ commits: 1, intent: { status: 'sent', compartment_no: p.no }, compartment: 'opening' });
    expect(seen[0]!.intent!.seq).not.toBeNull();
    expect(seen[0]!.actions.slice(-4)).toEqual(['credential.verified', 'compartment.opening', 'unlock.intended', 'unlock.sent']);
  });

  it('a drop-off code: the check, the reservation, "depositing" and the intent are one commit too', async () => {
    const w = await world(cleanups);
    const resident = makeResident(w.store);
    const { request } = createRequest(w.store.ctx, { residentId: resident.id, serviceCode: 'residence_certificate' }, residentActor(resident.id));
    transitionRequest(w.store.ctx, { requestId: request.id, event: 'request_materials', actor: staffActor(w.staffId) });
    const { code } = issueDepositCode(w.store.ctx, request.id, staffActor(w.staffId));
    await busIdle(w);
    const { seen } = watchUnlockFrame(w);
    // The consoles hear of "depositing" only once it and the unlock are durable: no listener works before the frame.
    const reader = new Database(path.join(w.store.dir, DB_FILE), { readonly: true });
    cleanups.push(() => void reader.close());
    const heard: (string | undefined)[] = [];
    w.bus.on('request', (e) => {
      if (e.id !== request.id) return;
      heard.push(
        (reader.prepare('SELECT status FROM unlock_intents WHERE request_id = ?').get(request.id) as { status: string } | undefined)?.status,
      );
    });
    const answer = await w.flows.pickupByCode(code, resident.mobile.slice(-4), 'kiosk-1');
    expect(answer).toMatchObject({ ok: true, action: 'dropoff' });
    expect(heard[0]).toBe('sent');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ commits: 1, intent: { status: 'sent' }, compartment: 'opening' });
    expect(seen[0]!.actions).toEqual(expect.arrayContaining(['credential.verified', 'compartment.reserved', 'request.start_deposit', 'unlock.sent']));
  });

  it('behind another command: the intent commits at once, the claim when the bus is free, both before the frame', async () => {
    const w = await world(cleanups);
    const p = await loadedWithCode(w);
    await busIdle(w);
    const { seen } = watchUnlockFrame(w);
    w.sim.setFaults({ delayMs: 100 }); // the board answers the STATUS below slowly: the bus is busy meanwhile
    const status = w.driver.readCompartment(1);
    const pending = w.flows.pickupByCode(p.code, p.last4, 'kiosk-1');
    expect(walCommits(w.store.dir)).toBe(1); // the check and the intent, while the STATUS is still out
    w.sim.setFaults({ delayMs: 0 });
    await status;
    expect(await pending).toMatchObject({ ok: true, compartments: [p.no] });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ commits: 2, intent: { status: 'sent' }, compartment: 'opening' });
  });

  it('an unlock whose intent could not be committed never goes out, even once the bus is free', async () => {
    const w = await world(cleanups);
    await busIdle(w);
    w.sim.setFaults({ delayMs: 100 });
    const status = w.driver.readCompartment(1);
    const actor = staffActor(w.adminId);
    // The held commit fails (a foreign key checked at COMMIT): the unlock for 3 was already queued behind the STATUS.
    const failed = holdCommit(w.store.db, () => {
      w.store.db.pragma('defer_foreign_keys = ON');
      w.store.db.prepare(`INSERT INTO door_events (compartment_no, door, source, intent_id, at) VALUES (3, 'open', 'event', 999999, 1)`).run();
      return w.flows.doors.open({ compartmentNo: 3, requestId: null, actor, reason: 'staff_open', attempts: 1 });
    });
    await expect(failed).rejects.toThrow(/FOREIGN KEY/);
    // The next intent takes the id the rolled-back one had: the withdrawn unlock must not claim it as its own.
    const next = w.flows.doors.open({ compartmentNo: 4, requestId: null, actor: SYSTEM_ACTOR, reason: 'staff_open', attempts: 1 });
    w.sim.setFaults({ delayMs: 0 });
    await status;
    expect(await next).toEqual({ opened: true });
    await waitFor(() => w.sim.unlockCount(4) === 1, 'the unlock of 4');
    await busIdle(w);
    expect(w.sim.unlockCount(3)).toBe(0);
  });
});

describe('after a door flow', () => {
  it('the log is checkpointed once no door flow runs: the next commit starts it again, not the one an unlock waits for', async () => {
    const w = await world(cleanups);
    const p = await loadedWithCode(w);
    w.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const answer = await w.flows.pickupByCode(p.code, p.last4, 'kiosk-1');
    w.sim.takeItem(p.no);
    w.sim.closeDoor(p.no);
    expect(await answer.done).toEqual(['collected']);
    expect(walCommits(w.store.dir)).toBeGreaterThan(3); // the pickup's commits, in the log
    await new Promise((r) => setImmediate(r));
    w.flows.setDisabled(w.adminId, 20, true, 'test: one more commit');
    // Everything was copied into the database: this commit began the log again.
    expect(walCommits(w.store.dir)).toBe(1);
  });
});
