import { describe, expect, it } from 'vitest';
import {
  applyTransition,
  eventsFrom,
  nextState,
  REQUEST_EVENTS,
  REQUEST_STATES,
  TERMINAL_STATES,
  TransitionError,
  TRANSITIONS,
  type RequestEvent,
  type RequestState,
} from './request-states.js';

/**
 * The expected table, written out by hand and independently of TRANSITIONS: for every event, the states it is
 * allowed from and where it leads. Every (state, event) pair NOT listed here must be refused.
 */
const EXPECTED: Record<RequestEvent, Partial<Record<RequestState, RequestState>>> = {
  request_materials: { submitted: 'awaiting_materials' },
  accept: { submitted: 'accepted', materials_retrieved: 'accepted' },
  reject: { submitted: 'rejected', awaiting_materials: 'rejected', materials_retrieved: 'rejected', accepted: 'rejected' },
  start_deposit: { awaiting_materials: 'depositing' },
  deposit: { depositing: 'materials_deposited' },
  deposit_aborted: { depositing: 'awaiting_materials' },
  retrieve_materials: { materials_deposited: 'materials_retrieved' },
  mark_ready: { accepted: 'ready' },
  start_load: { ready: 'loading' },
  load_done: { loading: 'loaded' },
  load_aborted: { loading: 'ready' },
  mark_overdue: { loaded: 'overdue' },
  collect: { loaded: 'collected', overdue: 'collected' },
  retrieve: { overdue: 'retrieved' },
  admin_retrieve: { loaded: 'retrieved' },
  cancel: {
    submitted: 'cancelled',
    awaiting_materials: 'cancelled',
    depositing: 'cancelled',
    accepted: 'cancelled',
    ready: 'cancelled',
    loading: 'cancelled',
    materials_retrieved: 'cancelled',
  },
};

const ALL_STATES: RequestState[] = [
  'submitted',
  'awaiting_materials',
  'depositing',
  'materials_deposited',
  'materials_retrieved',
  'accepted',
  'rejected',
  'ready',
  'loading',
  'loaded',
  'overdue',
  'collected',
  'retrieved',
  'cancelled',
];

describe('request state table', () => {
  it('knows exactly the states and events the expected matrix names', () => {
    expect([...REQUEST_STATES].sort()).toEqual([...ALL_STATES].sort());
    expect([...REQUEST_EVENTS].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  const pairs = ALL_STATES.flatMap((state) => (Object.keys(EXPECTED) as RequestEvent[]).map((event) => [state, event] as const));

  it(`covers all ${ALL_STATES.length} × ${Object.keys(EXPECTED).length} (state, event) pairs`, () => {
    expect(pairs).toHaveLength(ALL_STATES.length * Object.keys(EXPECTED).length);
  });

  it.each(pairs)('%s + %s', (state, event) => {
    const expected = EXPECTED[event][state] ?? null;
    expect(nextState(state, event)).toBe(expected);
    const subject = { id: 42, number: 'BB-20250314-0042', state };
    const actor = TRANSITIONS[event].actors[0];
    if (expected === null) {
      let err: unknown;
      try {
        applyTransition(subject, event, actor, 'a reason');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TransitionError);
      const te = err as TransitionError;
      expect(te.code).toBe('TRANSITION_NOT_ALLOWED');
      expect(te.event).toBe(event);
      expect(te.from).toBe(state);
      expect(te.message).toContain('BB-20250314-0042');
      expect(te.message).toContain(event);
      expect(te.message).toContain(state);
    } else {
      expect(applyTransition(subject, event, actor, 'a reason')).toBe(expected);
    }
  });

  it('has no way out of a terminal state', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(['cancelled', 'collected', 'rejected', 'retrieved']);
    for (const s of TERMINAL_STATES) expect(eventsFrom(s)).toEqual([]);
  });

  it('reaches every state from an initial one', () => {
    const seen = new Set<RequestState>(['submitted', 'awaiting_materials']);
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of [...seen])
        for (const e of eventsFrom(s)) {
          const to = nextState(s, e);
          if (to && !seen.has(to)) seen.add(to), (grew = true);
        }
    }
    expect([...seen].sort()).toEqual([...ALL_STATES].sort());
  });

  it('refuses an actor kind the table does not name, and reject without a reason', () => {
    const loaded = { id: 1, number: 'BB-20250314-0001', state: 'loaded' as const };
    expect(() => applyTransition(loaded, 'collect', 'staff')).toThrow(/actor kind "staff"/);
    expect(applyTransition(loaded, 'collect', 'kiosk')).toBe('collected');
    const submitted = { id: 2, number: 'BB-20250314-0002', state: 'submitted' as const };
    expect(() => applyTransition(submitted, 'reject', 'staff', '  ')).toThrow(expect.objectContaining({ code: 'REASON_REQUIRED' }));
    expect(() => applyTransition(submitted, 'accept', 'resident')).toThrow(expect.objectContaining({ code: 'ACTOR_NOT_ALLOWED' }));
  });
});
