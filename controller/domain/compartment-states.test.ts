import { describe, expect, it } from 'vitest';
import { COMPARTMENT_STATES, COMPARTMENT_TRANSITIONS, decideCompartmentChange, inServiceState, mayLetGo } from './compartment-states.js';
import { REQUEST_STATES } from './request-states.js';

describe('compartment state table', () => {
  it('names only known states', () => {
    for (const [from, tos] of Object.entries(COMPARTMENT_TRANSITIONS)) {
      expect(COMPARTMENT_STATES).toContain(from);
      for (const to of tos) expect(COMPARTMENT_STATES).toContain(to);
    }
  });

  it('never clears what a loaded, overdue or deposited request holds, whatever the target state', () => {
    for (const requestState of ['loading', 'loaded', 'overdue', 'depositing', 'materials_deposited'] as const) {
      for (const from of COMPARTMENT_STATES) {
        for (const to of COMPARTMENT_STATES) {
          const d = decideCompartmentChange({ from, to, holding: { requestState }, clearContents: true, faultReason: 'x' });
          expect(d.ok, `${from} → ${to} clearing a ${requestState} request`).toBe(false);
          if (to === 'free' || to === 'disabled') {
            expect(decideCompartmentChange({ from, to, holding: { requestState }, clearContents: false, faultReason: 'x' }).ok).toBe(false);
          }
        }
      }
    }
  });

  it('lets go of a request that no longer has anything inside', () => {
    for (const s of REQUEST_STATES) expect(mayLetGo(s)).toBe(!['loading', 'loaded', 'overdue', 'depositing', 'materials_deposited'].includes(s));
    expect(decideCompartmentChange({ from: 'open', to: 'free', holding: { requestState: 'collected' }, clearContents: false })).toEqual({
      ok: true,
      clear: true,
    });
    expect(
      decideCompartmentChange({ from: 'opening', to: 'fault', holding: { requestState: 'ready' }, clearContents: true, faultReason: 'jammed' }),
    ).toEqual({ ok: true, clear: true });
  });

  it('a fault keeps its contents and goes back into service as occupied', () => {
    expect(
      decideCompartmentChange({ from: 'opening', to: 'fault', holding: { requestState: 'overdue' }, clearContents: false, faultReason: 'jammed' }),
    ).toEqual({ ok: true, clear: false });
    expect(decideCompartmentChange({ from: 'fault', to: 'occupied', holding: { requestState: 'overdue' }, clearContents: false })).toEqual({
      ok: true,
      clear: false,
    });
    expect(inServiceState(true)).toBe('occupied');
    expect(inServiceState(false)).toBe('free');
    expect(decideCompartmentChange({ from: 'fault', to: 'fault', holding: null, clearContents: false })).toMatchObject({
      ok: false,
      refusal: { code: 'FAULT_REASON' },
    });
    expect(decideCompartmentChange({ from: 'occupied', to: 'reserved', holding: { requestState: 'loaded' }, clearContents: false })).toMatchObject({
      ok: false,
      refusal: { code: 'TRANSITION' },
    });
  });
});
