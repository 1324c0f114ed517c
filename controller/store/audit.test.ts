import { describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../domain/types.js';
import { appendAudit, listAudit } from './audit.js';
import { activeCredentials } from './credentials.js';
import { listNotifications } from './outbox.js';
import { getRequest, transitionRequest } from './requests.js';
import { loadedRequest, openTestStore } from './test-support.js';

describe('audit log', () => {
  it('is append-only: UPDATE and DELETE are refused by the database itself', () => {
    const s = openTestStore();
    const id = appendAudit(s.db, 5, { actor: SYSTEM_ACTOR, action: 'x', detail: { a: 1 } });
    expect(() => s.db.prepare(`UPDATE audit_log SET action = 'y' WHERE id = ?`).run(id)).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit_log WHERE id = ?').run(id)).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(listAudit(s.db)).toEqual([
      { id, at: 5, actorKind: 'system', actorId: null, action: 'x', compartmentNo: null, requestId: null, detail: { a: 1 } },
    ]);
    s.close();
  });

  it('refuses details that would put a code, PIN or ID number into the log', () => {
    const s = openTestStore();
    expect(() => appendAudit(s.db, 1, { actor: SYSTEM_ACTOR, action: 'x', detail: { code: '12345678' } })).toThrow(/never go into the audit log/);
    expect(() => appendAudit(s.db, 1, { actor: SYSTEM_ACTOR, action: 'x', detail: { nested: { idNumber: 'x' } } })).toThrow();
    expect(listAudit(s.db)).toHaveLength(0);
    s.close();
  });

  it('every state change writes its audit row in the same transaction', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const actions = listAudit(s.db, { requestId: l.requestId }).map((a) => a.action);
    expect(actions).toEqual([
      'request.created',
      'request.accept',
      'request.mark_ready',
      'compartment.reserved',
      'request.start_load',
      'request.load_done',
      'credential.issued',
    ]);
    s.close();
  });

  it('a state change whose audit insert fails leaves nothing half-done', async () => {
    const s = openTestStore();
    const l = await loadedRequest(s);
    const before = {
      request: getRequest(s.ctx, l.requestId),
      credentials: activeCredentials(s.ctx, l.requestId),
      notifications: listNotifications(s.ctx, { requestId: l.requestId }),
      audit: listAudit(s.db).length,
    };
    expect(before.credentials).toHaveLength(1);
    // fault injection in the database: the audit insert for the collection fails
    s.db.exec(`CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON audit_log WHEN NEW.action = 'request.collect'
               BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END`);
    expect(() => transitionRequest(s.ctx, { requestId: l.requestId, event: 'collect', actor: { kind: 'kiosk', id: 'k1' } })).toThrow(
      /injected audit failure/,
    );
    expect(getRequest(s.ctx, l.requestId)).toEqual(before.request);
    expect(activeCredentials(s.ctx, l.requestId)).toEqual(before.credentials);
    expect(listNotifications(s.ctx, { requestId: l.requestId })).toEqual(before.notifications);
    expect(listAudit(s.db)).toHaveLength(before.audit);
    // and once the fault is gone the same change goes through
    s.db.exec('DROP TRIGGER temp.fail_audit');
    transitionRequest(s.ctx, { requestId: l.requestId, event: 'collect', actor: { kind: 'kiosk', id: 'k1' } });
    expect(getRequest(s.ctx, l.requestId)?.state).toBe('collected');
    expect(activeCredentials(s.ctx, l.requestId)).toEqual([]);
    s.close();
  });
});
