/**
 * The unlock policy: the one place that decides when an unlock may be sent, how long it stays
 * sendable, how often it is retransmitted, how many are allowed per minute, what a failed unlock
 * means for the door, and which door openings an unlock explains. Pure: no I/O, no clock of its own.
 * Configured once from the settings (`unlockPolicyFrom`), then handed to the driver, the store and
 * the flows, which apply it and decide nothing of their own.
 */
import type { Config } from '../config.js';
import { DEDUP_WINDOW_MS } from '../../firmware-protocol/index.js';

export interface UnlockPolicy {
  /** Deadline: an unlock not sent (or re-sent) within this time of its decision is dropped, never sent late. UNLOCK_TTL_MS. */
  readonly ttlMs: number;
  /** Retransmissions of an unanswered unlock, with the same sequence number. LOCK_RETRIES. */
  readonly retries: number;
  /** How long one transmission waits for the board's reply. LOCK_RESPONSE_TIMEOUT_MS. */
  readonly replyDeadlineMs: number;
  /** Unlock decisions allowed per rolling minute across the whole cabinet. UNLOCK_MAX_PER_MINUTE. */
  readonly maxPerMinute: number;
  /**
   * A door opening this long (at most) after its unlock was sent or answered is explained by it;
   * an opening no unlock explains is tamper. LOCK_TAMPER_WINDOW_MS.
   */
  readonly tamperWindowMs: number;
}

/** The defaults of the settings (config.ts), for tests and tools that build a policy without a configuration. */
export const DEFAULT_UNLOCK_POLICY: UnlockPolicy = Object.freeze({
  ttlMs: 5000,
  retries: 2,
  replyDeadlineMs: 500,
  maxPerMinute: 20,
  tamperWindowMs: 10_000,
});

export type UnlockPolicySettings = Pick<Config, 'unlockTtlMs' | 'retries' | 'responseTimeoutMs' | 'unlockMaxPerMinute' | 'tamperWindowMs'> &
  Partial<Pick<Config, 'lockBoard'>>;

/**
 * The driver's reply deadline. Through a vendor adapter (LOCK_BOARD other than native) one command can take a
 * vendor exchange and a read after a missing reply: room for both, so the driver does not retransmit too early.
 */
export function replyDeadlineMs(c: Pick<Config, 'responseTimeoutMs'> & Partial<Pick<Config, 'lockBoard'>>): number {
  return (c.lockBoard ?? 'native') === 'native' ? c.responseTimeoutMs : Math.min(10_000, 2 * c.responseTimeoutMs + 100);
}

export function unlockPolicyFrom(c: UnlockPolicySettings): UnlockPolicy {
  return Object.freeze({
    ttlMs: c.unlockTtlMs,
    retries: c.retries,
    replyDeadlineMs: replyDeadlineMs(c),
    maxPerMinute: c.unlockMaxPerMinute,
    tamperWindowMs: c.tamperWindowMs,
  });
}

/** The time every transmission of one unlock may take to be answered: (retries + 1) × reply deadline. */
export function retrySpanMs(p: Pick<UnlockPolicy, 'retries' | 'replyDeadlineMs'>): number {
  return (p.retries + 1) * p.replyDeadlineMs;
}

/** Rules a policy must satisfy before the controller starts, as codes with their numbers (config.ts words them). */
export type PolicyProblem =
  /** The deadline is shorter than the retry span: an unanswered unlock would routinely end with its outcome unknown. */
  | { code: 'TTL_BELOW_RETRY_SPAN'; ttlMs: number; retrySpanMs: number }
  /** The retry span reaches the board's de-duplication window: a late retransmission could pulse a second time. */
  | { code: 'RETRY_SPAN_OVER_DEDUP'; retrySpanMs: number; dedupWindowMs: number }
  /** A door may open inside the flow's wait yet outside the attribution window: a normal opening would be tamper. */
  | { code: 'TAMPER_WINDOW_BELOW_DOOR_WAIT'; tamperWindowMs: number; doorOpenTimeoutMs: number };

export function policyProblems(p: UnlockPolicy, doorOpenTimeoutMs: number): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const span = retrySpanMs(p);
  if (p.ttlMs < span) problems.push({ code: 'TTL_BELOW_RETRY_SPAN', ttlMs: p.ttlMs, retrySpanMs: span });
  if (span >= DEDUP_WINDOW_MS) problems.push({ code: 'RETRY_SPAN_OVER_DEDUP', retrySpanMs: span, dedupWindowMs: DEDUP_WINDOW_MS });
  if (p.tamperWindowMs < doorOpenTimeoutMs)
    problems.push({ code: 'TAMPER_WINDOW_BELOW_DOOR_WAIT', tamperWindowMs: p.tamperWindowMs, doorOpenTimeoutMs });
  return problems;
}

/** May one more unlock be decided, with `recent` decided in the last minute? */
export function withinRate(recent: number, p: UnlockPolicy): boolean {
  return recent < p.maxPerMinute;
}

/**
 * What a failed unlock means for the door, by its error code:
 *  - 'not_sent': dropped before any byte of it went out (expired while waiting for the bus, withdrawn,
 *    port not open, rate cap, refused by the store): the door is shut, say so;
 *  - 'refused': the board answered NAK: it did nothing (PROTOCOL.md §8), the door is shut;
 *  - 'outcome_unknown': at least one transmission went out and no answer settled it (no reply, the
 *    deadline passed between retries, the port went away, the board restarted, the driver stopped):
 *    the board may have pulsed, and only the door can tell. Follow the door as if acknowledged.
 */
export type UnlockFailure = 'not_sent' | 'refused' | 'outcome_unknown';

const OUTCOME_UNKNOWN_CODES: ReadonlySet<string> = new Set([
  'UNLOCK_UNCONFIRMED',
  'LINK_TIMEOUT',
  'LINK_DISCONNECTED',
  'BOARD_REBOOTED',
  'LINK_CLOSED',
]);

export function unlockFailure(code: string): UnlockFailure {
  if (OUTCOME_UNKNOWN_CODES.has(code)) return 'outcome_unknown';
  if (code === 'LINK_NAK') return 'refused';
  return 'not_sent';
}

export function isOutcomeUnknown(code: string): boolean {
  return unlockFailure(code) === 'outcome_unknown';
}

/**
 * The earliest time an unlock may have been sent or answered (its last status change) and still
 * explain a door opening seen at `now`. Which unlocks qualify: sent, acknowledged, or failed with
 * their outcome unknown — any that has a sequence number, i.e. went out on the wire, and that no
 * opening was matched to yet.
 *
 * The window counts from when the opening may have happened: `now` for an event, `now − ageMs` for a
 * change a STATUS found (the board was last fully known ageMs ago: a lost event, a link that was down),
 * and, for the first reading after a start (`ageMs` null), the time the door was last recorded (never:
 * any time) — the opening may date from any time since, a restart included. Without this a door opened by an unlock
 * and found late would be a false tamper alarm.
 */
export function explainsOpeningSince(now: number, p: UnlockPolicy, seen: { ageMs?: number | null; doorRecordedAt?: number | null } = {}): number {
  // A door never recorded (doorRecordedAt null) may have opened at any time: every unmatched unlock qualifies.
  const from = seen.ageMs === null ? Math.min(now, seen.doorRecordedAt ?? 0) : now - (seen.ageMs ?? 0);
  return from - p.tamperWindowMs;
}

/**
 * Door openings a version 2 lock board counted that no DOOR event reported (PROTOCOL.md §21.3): both events of each
 * were lost, and the door is as it was before. They are openings like any other: each is explained by one unlock
 * that may explain an opening found that late (`explainsOpeningSince` with the age of the count's interval; for this
 * process's unlocks, `UnlockTimes.explaining`), one opening per unlock, the latest unlock first. The openings left
 * over no unlock explains: tamper, as an opening seen with no unlock to explain it.
 */
export function attributeHiddenOpenings(count: number, explaining: readonly number[]): { explainedBy: number[]; unexplained: number } {
  const n = Math.max(0, Math.floor(count));
  const explainedBy = explaining.slice(0, n);
  return { explainedBy, unexplained: n - explainedBy.length };
}

/**
 * The unlock decisions of this process in the last minute, counted on a monotonic clock (performance.now() unless a
 * test passes its own): a wall clock set forward does not forget them, one set back does not keep them for longer
 * than the minute. At most `limit` times are kept (older ones cannot change a verdict of "under the cap").
 */
export class RecentUnlocks {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly monotonicNow: () => number = () => performance.now(),
  ) {}

  /** One more unlock decided now. */
  record(): void {
    this.times.push(this.monotonicNow());
    if (this.times.length > this.limit) this.times.splice(0, this.times.length - this.limit);
  }

  /** How many were decided within the last RATE_WINDOW_MS. */
  count(): number {
    const since = this.monotonicNow() - RATE_WINDOW_MS;
    while (this.times.length > 0 && this.times[0]! <= since) this.times.shift();
    return this.times.length;
  }
}

/** The window of the per-minute cap. */
export const RATE_WINDOW_MS = 60_000;

/**
 * When each of this process's unlocks was last sent or answered, on a monotonic clock (performance.now() unless a
 * test passes its own), and which of them may explain a door opening seen now: those changed within the attribution
 * window before the opening may have happened (`explainsOpeningSince`, on this clock). A wall clock set forward
 * between an unlock and its door opening does not turn the opening into tamper, nor does one set back let an unlock
 * of long ago explain a forced door. Which unlocks are this process's, and which have been matched to an opening
 * already, is the store's to know. At most `limit` are kept (the oldest go first: an unlock that many unlocks ago
 * explains no opening now).
 */
export class UnlockTimes {
  private readonly at = new Map<number, number>();

  constructor(
    private readonly limit = 256,
    private readonly monotonicNow: () => number = () => performance.now(),
  ) {}

  /** Unlock `id` was sent, acknowledged or settled just now. */
  noted(id: number): void {
    this.at.delete(id);
    this.at.set(id, this.monotonicNow());
    for (const oldest of this.at.keys()) {
      if (this.at.size <= this.limit) break;
      this.at.delete(oldest);
    }
  }

  /**
   * The unlocks that may explain an opening seen now, the latest decided (highest id) first. `ageMs` as for `explainsOpeningSince`; null (the
   * door's first reading since the board was started) admits every one of them: the door may have opened at any time.
   */
  explaining(p: UnlockPolicy, seen: { ageMs?: number | null } = {}): number[] {
    const since = seen.ageMs === null ? -Infinity : explainsOpeningSince(this.monotonicNow(), p, { ageMs: seen.ageMs ?? 0 });
    return [...this.at]
      .filter(([, t]) => t >= since)
      .map(([id]) => id)
      .sort((a, b) => b - a);
  }
}

/**
 * What an unlock the board acknowledged, with no door opening recorded after it, means when the controller starts.
 * The coil pulsed; a door is opened by a hand, and a resident who did not pull it (who walked away, changed their
 * mind) is no fault. So:
 *  - 'stayed_shut': the record and the board agree (the operation is over, the door is shut now): the lock pulsed
 *    and the door stayed shut. Not an alarm — a fact for the audit log; the compartment's contents are checked
 *    against the board's STATUS like every compartment's;
 *  - 'cut_off': the compartment is still opening or open for an operation: that operation was cut off, and the
 *    compartment's own check finishes or undoes it (one finding there, not a second one here);
 *  - 'open_now': the door is open now though no opening was recorded: the facts disagree — a finding.
 */
export type UnopenedUnlock = 'stayed_shut' | 'cut_off' | 'open_now';

export function unopenedUnlock(f: { readonly operationUnderWay: boolean; readonly doorOpenNow: boolean }): UnopenedUnlock {
  if (f.operationUnderWay) return 'cut_off';
  return f.doorOpenNow ? 'open_now' : 'stayed_shut';
}

/**
 * Whether the door of an operation cut off by a stop opened, at start-up:
 *  - 'opened': something proves it (the door open now, the compartment's record, the item sensor, an opening on record
 *    after the unlock — one found by a version 2 board's count among them);
 *  - 'never_sent': no byte of the unlock went out (no sequence number): the door stayed shut;
 *  - 'shut_by_count': the unlock went out, and the board's door-opening count, compared with the one kept before the
 *    stop in the same run of the board (PROTOCOL.md §21.3), shows no opening: every opening since would be on record,
 *    so the door stayed shut — a door nobody pulled, no fault;
 *  - 'may_have_opened': the unlock went out and nothing tells (protocol version 1, no usable kept count: the board
 *    restarted, none was kept): the door may have opened and shut again while nothing listened.
 */
export type CutOffDoor = 'opened' | 'never_sent' | 'shut_by_count' | 'may_have_opened';

export function cutOffDoor(f: {
  readonly openingProven: boolean;
  readonly unlockTransmitted: boolean;
  /** The board's count of this door since the stop was compared with the kept one and has nothing left to confirm. */
  readonly countedSinceStop: boolean;
}): CutOffDoor {
  if (f.openingProven) return 'opened';
  if (!f.unlockTransmitted) return 'never_sent';
  return f.countedSinceStop ? 'shut_by_count' : 'may_have_opened';
}
