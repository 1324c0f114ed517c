import { describe, expect, it } from 'vitest';
import { LateDoorFacts, type LateDoorFact } from './late-records.js';

const fact = (compartmentNo: number, door: 'open' | 'closed', at: number): LateDoorFact => ({ compartmentNo, door, source: 'event', ageMs: 0, at });

describe('door changes kept while the store cannot write', () => {
  it('are kept in the order seen, and forgotten once written', () => {
    const late = new LateDoorFacts(3);
    expect(late.waiting).toBe(false);
    expect(late.counts).toEqual({ kept: 0, notKept: 0 });
    expect(late.keep(fact(7, 'open', 1_000))).toBe('kept');
    expect(late.keep(fact(7, 'closed', 2_000))).toBe('kept');
    expect(late.waiting).toBe(true);
    expect(late.counts).toEqual({ kept: 2, notKept: 0 });
    expect([late.waitingFor(7), late.waitingFor(8)]).toEqual([true, false]);
    expect(late.pending()).toEqual({ facts: [fact(7, 'open', 1_000), fact(7, 'closed', 2_000)], notKept: null });
    late.written();
    expect(late.waiting).toBe(false);
    expect(late.pending()).toEqual({ facts: [], notKept: null });
  });

  it('are bounded: past the limit a change is only counted, with its span of time and its compartments', () => {
    const late = new LateDoorFacts(2);
    late.keep(fact(1, 'open', 1_000));
    late.keep(fact(1, 'closed', 2_000));
    expect(late.keep(fact(9, 'open', 3_000))).toBe('not_kept');
    expect(late.keep(fact(4, 'open', 4_000))).toBe('not_kept');
    expect(late.keep(fact(9, 'closed', 5_000))).toBe('not_kept');
    expect(late.pending()).toEqual({
      facts: [fact(1, 'open', 1_000), fact(1, 'closed', 2_000)],
      notKept: { count: 3, from: 3_000, to: 5_000, compartments: [4, 9] },
    });
    expect([late.waitingFor(1), late.waitingFor(9), late.waitingFor(5)]).toEqual([true, true, false]);
    expect(late.counts).toEqual({ kept: 2, notKept: 3 });
    late.written();
    expect(late.waiting).toBe(false);
    expect(late.counts).toEqual({ kept: 0, notKept: 0 });
    expect(late.keep(fact(2, 'open', 6_000))).toBe('kept');
  });

  it('refuses a limit that is not a positive whole number', () => {
    expect(() => new LateDoorFacts(0)).toThrow(RangeError);
    expect(() => new LateDoorFacts(1.5)).toThrow(RangeError);
  });
});
