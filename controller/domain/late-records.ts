/**
 * Door changes the store could not write when they were seen (disk full, read-only, an I/O error): every door opening
 * is to be recorded, so each is kept in memory, in the order seen, and written — at the time it was seen, marked as
 * written late — as soon as writes succeed again. A change seen while earlier ones still wait goes behind them, so the
 * record keeps the order the door moved in. Bounded: past `limit` a change is not kept, only counted (with the span of
 * its times and the compartments), and that count is written with the rest. Pure: no I/O and no clock of its own; the
 * caller says when a change was seen.
 */

export interface LateDoorFact {
  readonly compartmentNo: number;
  readonly door: 'open' | 'closed';
  readonly source: 'event' | 'poll';
  /** As the driver reported it: how long before it was seen the change may have happened; null for a first reading. */
  readonly ageMs: number | null;
  /** When it was seen, on the wall clock (ms): the time it is recorded at. */
  readonly at: number;
  /** This process's unlocks that could explain it when it was seen, by the monotonic clock (UnlockTimes). */
  readonly inProcess?: { readonly fromId: number; readonly explaining: readonly number[] } | undefined;
  /**
   * Seen before start-up reconciliation had run: a first reading of a door found open is then reconciliation's to
   * judge, and only an event (a door moving now) is tamper when nothing explains it.
   */
  readonly beforeReady?: boolean;
  /** The tamper alarm was raised when it was seen (read from the record, which could not be written): not again. */
  readonly alarmed?: boolean;
  /** Half of an opening a version 2 board counted and no DOOR event reported (PROTOCOL.md §21.3): an opening and a closing. */
  readonly byCount?: boolean;
}

/** The changes that could not be kept: how many, from when to when, and at which compartments. */
export interface NotKept {
  readonly count: number;
  readonly from: number;
  readonly to: number;
  readonly compartments: readonly number[];
}

export interface LateBatch {
  /** Oldest first. */
  readonly facts: readonly LateDoorFact[];
  readonly notKept: NotKept | null;
}

/** How many door changes are kept while the store cannot write: hours of a busy cabinet, a few kilobytes. */
export const LATE_DOOR_FACTS_MAX = 200;

export class LateDoorFacts {
  private facts: LateDoorFact[] = [];
  private notKept: NotKept | null = null;

  constructor(readonly limit = LATE_DOOR_FACTS_MAX) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`LateDoorFacts: limit must be a positive integer, not ${limit}`);
  }

  /** Whether anything waits to be written: a new change must then go behind it. */
  get waiting(): boolean {
    return this.facts.length > 0 || this.notKept !== null;
  }

  /** How many changes wait: kept (to be written each as a row) and not kept (only their count is to be written). */
  get counts(): { readonly kept: number; readonly notKept: number } {
    return { kept: this.facts.length, notKept: this.notKept?.count ?? 0 };
  }

  /** Whether a change of this compartment waits (then the record is not its door's latest state). */
  waitingFor(compartmentNo: number): boolean {
    return this.facts.some((f) => f.compartmentNo === compartmentNo) || (this.notKept?.compartments.includes(compartmentNo) ?? false);
  }

  /** The door of this compartment as the last change kept for it left it; null when none is kept. */
  lastDoor(compartmentNo: number): 'open' | 'closed' | null {
    for (let i = this.facts.length - 1; i >= 0; i--) if (this.facts[i]!.compartmentNo === compartmentNo) return this.facts[i]!.door;
    return null;
  }

  /** One more change that could not be written: 'kept', or 'not_kept' (the list is full: only counted). */
  keep(f: LateDoorFact): 'kept' | 'not_kept' {
    if (this.facts.length < this.limit) {
      this.facts.push(f);
      return 'kept';
    }
    const n = this.notKept;
    this.notKept = {
      count: (n?.count ?? 0) + 1,
      from: Math.min(n?.from ?? f.at, f.at),
      to: Math.max(n?.to ?? f.at, f.at),
      compartments: n?.compartments.includes(f.compartmentNo) ? n.compartments : [...(n?.compartments ?? []), f.compartmentNo].sort((a, b) => a - b),
    };
    return 'not_kept';
  }

  /** What is to be written now, in one go. */
  pending(): LateBatch {
    return { facts: [...this.facts], notKept: this.notKept };
  }

  /** The batch `pending` gave was written (committed): forget it. */
  written(): void {
    this.facts = [];
    this.notKept = null;
  }
}
