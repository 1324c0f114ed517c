/**
 * Opening one compartment and watching what its door does: the one place where an unlock is
 * decided, sent and followed, for every flow (load, pickup, drop-off, retrieval, force-open).
 *
 *   compartment → opening, unlock intent committed (expires in UNLOCK_TTL_MS)
 *   → the driver sends the unlock; right before the bytes go out the intent is claimed as "sent"
 *     (an intent that expired while waiting for the bus is dropped, never sent late)
 *   → acknowledged (intent "acked")  ≠  door opened (a door fact, recorded from the board's event)
 *   → door never opened within DOOR_OPEN_TIMEOUT_MS: one more unlock (a new intent), then fault
 *   → door opened: compartment "open"; then wait for it to close, alarming if it stays open
 *   → door closed: read the board's item sensor for the final word.
 * Every step is committed before the next, so a crash anywhere leaves rows that start-up
 * reconciliation (reconcile.ts) can finish.
 */
import type { BoardDriver } from '../board/driver.js';
import type { Config } from '../config.js';
import type { Actor } from '../domain/types.js';
import {
  isOutcomeUnknown,
  RecentUnlocks,
  UnlockTimes,
  unlockPolicyFrom,
  type UnlockPolicy,
  type UnlockPolicySettings,
} from '../domain/unlock-policy.js';
import { CabinetError, isCabinetError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import {
  claimIntentForSend,
  commitHeld,
  createUnlockIntent,
  firstIntentIdFromNow,
  getIntent,
  holdCommit,
  markIntentAcked,
  markIntentFailed,
  recordUnseenOpening,
  requireCompartment,
  transitionCompartment,
  type CompartmentState,
  type DoorOutcome,
  type Store,
  type UnlockIntent,
  type UnlockReason,
  type UnseenOpening,
} from '../store/index.js';
import { classifyStorageError, storageError, type StorageHealth } from '../store/storage-health.js';
import { said, type Said, type WordKey } from '../words/keys.js';

/** Why a compartment is a fault: a key of the word catalogue (fault.*), kept in the compartment's record. */
export type FaultWordKey = Extract<WordKey, `fault.${string}`>;
import { crashPoint } from './crash-points.js';

export interface DoorDeps {
  store: Store;
  driver: BoardDriver;
  bus: EventBus;
  config: Pick<Config, 'doorOpenTimeoutMs' | 'doorLeftOpenMs'> & UnlockPolicySettings & Partial<Pick<Config, 'itemSensors'>>;
  logger: Logger;
  /** Whether the database can record a door opening; without it, assumed writable. */
  storage?: StorageHealth;
  /** The monotonic clock of deadlines, the per-minute cap and door-opening attribution (ms); performance.now() unless a test injects one. */
  monotonicNow?: () => number;
}

export interface OpenRequest {
  compartmentNo: number;
  requestId: number | null;
  actor: Actor;
  reason: UnlockReason;
  /** Unlock attempts before giving up on a door that does not open (default 2: one retry). */
  attempts?: number;
}

export type OpenOutcome =
  | { opened: true }
  /** The board never showed the door open: jammed lock, broken sensor, or no unlock reached it. */
  | { opened: false; why: 'not_opened' }
  /** No byte of the unlock went out (offline, rate cap, expired while waiting), or the board refused it (NAK): the door is shut. */
  | { opened: false; why: 'not_sent'; error: CabinetError };

export class Doors {
  /** Compartments with a door flow running in this process (reconciliation after a store failure leaves them be). */
  readonly live = new Set<number>();
  /** The unlocks this process decided in the last minute, on the monotonic clock. */
  private readonly recent: RecentUnlocks;
  /** When this process's unlocks were last sent or answered, on the monotonic clock: which explain a door opening. */
  private readonly times: UnlockTimes;
  /** The first intent id this process wrote or will write (its rows are counted by `recent`, not by the wall clock). */
  private ownFromId: number | null = null;
  private readonly log: Logger;
  /** The unlock policy, configured once from the settings; the flows and reconciliation use this one. */
  readonly policy: UnlockPolicy;

  constructor(private readonly d: DoorDeps) {
    this.log = d.logger.child({ ns: 'doors' });
    this.policy = unlockPolicyFrom(d.config);
    this.recent = new RecentUnlocks(this.policy.maxPerMinute, d.monotonicNow);
    this.times = new UnlockTimes(undefined, d.monotonicNow);
  }

  /**
   * For attributing a door opening seen now (`ageMs` as the driver reports it): this process's unlocks and which of
   * them may explain it by the monotonic clock. Undefined before this process sent any unlock (every intent is then
   * an earlier process's, judged by the wall clock and the order of the rows).
   */
  ownUnlocks(ageMs: number | null | undefined): { fromId: number; explaining: number[] } | undefined {
    if (this.ownFromId === null) return undefined;
    return { fromId: this.ownFromId, explaining: this.times.explaining(this.policy, ageMs === undefined ? {} : { ageMs }) };
  }

  /**
   * Open a compartment whose door is shut. Moves it to "opening" and, once the door is seen open,
   * to "open". When the door does not open it goes back to the state it had (or to fault: the
   * caller decides with `fail`).
   */
  async open(req: OpenRequest): Promise<OpenOutcome> {
    // Never a door the store cannot record: refused while the database cannot be written.
    if (this.d.storage && !this.d.storage.ok) return { opened: false, why: 'not_sent', error: storageError(this.d.storage.current.problem!) };
    this.live.add(req.compartmentNo);
    let opened = false;
    try {
      const out = await this.openOnce(req);
      opened = out.opened;
      return out;
    } finally {
      if (!opened) this.live.delete(req.compartmentNo);
    }
  }

  private async openOnce(req: OpenRequest): Promise<OpenOutcome> {
    const { store } = this.d;
    const before = requireCompartment(store.ctx, req.compartmentNo).state;
    const itemBefore = this.d.driver.snapshot().compartments[req.compartmentNo - 1]?.item ?? 'unknown';
    const lostBefore = this.d.driver.snapshot().counters.lostEvents ?? 0;
    const attempts = req.attempts ?? 2;
    let lastError: CabinetError | null = null;
    let opening = false;
    /** The unlock of the latest attempt, once its intent is written. */
    const latest: { intent?: UnlockIntent } = {};
    for (let attempt = 1; attempt <= attempts; attempt++) {
      // The first intent and "opening" are one commit: the operation and its unlock cannot be told apart by a crash.
      const sent = await this.unlockOnce(req, opening ? undefined : before, latest);
      if (!opening && requireCompartment(store.ctx, req.compartmentNo).state === 'opening') {
        opening = true;
        this.emitCompartment(req.compartmentNo);
      }
      if (!opening) {
        // Refused before anything was committed (rate cap, another unlock under way): nothing changed.
        return { opened: false, why: 'not_sent', error: sent === true ? new CabinetError('COMPARTMENT_STATE', 'not opening') : sent };
      }
      if (sent !== true) {
        lastError = sent;
        if (!isOutcomeUnknown(sent.code)) break; // after any transmission, only the door can tell: wait for it
      }
      crashPoint(`${req.reason}.unlocked`);
      if (await this.waitDoor(req.compartmentNo, true, this.d.config.doorOpenTimeoutMs)) {
        this.setCompartment(req.compartmentNo, 'open', req.actor);
        crashPoint(`${req.reason}.door_open`);
        return { opened: true };
      }
      this.log.warn({ compartment: req.compartmentNo, attempt }, 'door did not open after its unlock');
      if (attempt < attempts) {
        // Never a second unlock without evidence that the first did nothing: ask the board itself.
        const seen = await this.boardSays(req.compartmentNo, itemBefore, lostBefore);
        if (seen === 'unreadable') {
          // cannot tell: no second pulse; the caller treats it as not opened — and the record says it may have
          this.unseenOpening(latest.intent, 'door.may_have_opened', 'board_unreadable');
          break;
        }
        if (seen !== 'untouched') {
          this.log.warn({ compartment: req.compartmentNo, seen }, 'no second unlock: the door may have opened unseen');
          // The item moved: it did open. Events went missing: it may have. (An open door is a door fact already.)
          if (seen === 'events_lost') this.unseenOpening(latest.intent, 'door.may_have_opened', seen);
          else this.unseenOpening(latest.intent, 'door.opened_unseen', seen);
          this.setCompartment(req.compartmentNo, 'open', req.actor, { said: said('note.opening_not_seen', { seen }) });
          return { opened: true };
        }
      } else if ((this.d.driver.snapshot().counters.lostEvents ?? 0) !== lostBefore) {
        // The last unlock, its door not seen open while board events went missing: it may have opened unseen.
        this.unseenOpening(latest.intent, 'door.may_have_opened', 'events_lost');
      }
    }
    this.setCompartment(req.compartmentNo, before, req.actor, { said: said('note.door_not_opened') });
    if (lastError && !isOutcomeUnknown(lastError.code)) return { opened: false, why: 'not_sent', error: lastError };
    return { opened: false, why: 'not_opened' };
  }

  /**
   * One intent, one unlock. True when acknowledged; the error otherwise (the intent is closed either way).
   *
   * One commit before the bytes go out (docs/adr/0005-unlock-commits.md): the intent, "opening", the claim "sent"
   * with its sequence number — and whatever the caller's held commit gathered before them (a kiosk's credential
   * check, a reservation). On an idle bus the driver calls beforeSend in this same tick: the claim joins the held
   * transaction, which commits there, and the frame is written right after. Behind other commands the held
   * transaction commits before this returns, and the claim commits on its own when the bus is free. Either way
   * the intent is durable before the unlock is sent, and an unlock whose intent could not be committed never is.
   */
  private async unlockOnce(
    req: OpenRequest,
    openFrom: CompartmentState | undefined,
    latest: { intent?: UnlockIntent },
  ): Promise<true | CabinetError> {
    const { store, driver } = this.d;
    let withdrawn = false;
    let unlock: { intent: UnlockIntent; sending: Promise<unknown> };
    try {
      unlock = holdCommit(store.db, () => {
        const intent = createUnlockIntent(
          store.ctx,
          {
            compartmentNo: req.compartmentNo,
            requestId: req.requestId,
            actor: req.actor,
            reason: req.reason,
            inProcess: { recent: this.recent.count(), fromId: this.firstOwnIntentId() },
            ...(openFrom !== undefined ? { openFrom } : {}),
          },
          this.policy,
        );
        this.recent.record();
        latest.intent = intent;
        const sending = driver.unlock(req.compartmentNo, {
          // The intent's time to live, judged by the driver on its monotonic clock from now (the intent was written
          // a moment ago); the claim then trusts that verdict rather than a wall clock that may have jumped since.
          withinMs: this.policy.ttlMs,
          beforeSend: (seq) => {
            if (withdrawn) return false;
            const claimed = claimIntentForSend(store.ctx, intent.id, seq, { inTime: true }) !== null;
            if (claimed) this.times.noted(intent.id);
            commitHeld(store.db);
            // Never a byte out while the intent is not durable (a caller that opened a transaction of its own).
            if (store.db.inTransaction) {
              this.log.error({ compartment: req.compartmentNo, intentId: intent.id }, 'unlock not sent: its intent is not committed yet');
              return false;
            }
            if (claimed) crashPoint(`${req.reason}.intent`);
            return claimed;
          },
        });
        // Waiting behind other commands (beforeSend not called yet): the intent commits now, whatever else the
        // caller holds, so that no later failure of that commit can leave a queued unlock without its intent.
        try {
          commitHeld(store.db);
        } catch (e) {
          withdrawn = true;
          sending.catch(() => undefined); // withdrawn: it ends as UNLOCK_EXPIRED, never sent; the commit's error is the one
          throw e;
        }
        return { intent, sending };
      });
    } catch (e) {
      // Refused (rate cap, an unlock under way), or the commit failed: nothing was sent and nothing will be.
      if (isCabinetError(e)) return e;
      throw e;
    }
    const { id } = unlock.intent;
    try {
      await unlock.sending;
      this.times.noted(id); // the board pulsed now, whatever the store makes of the answer
      try {
        markIntentAcked(store.ctx, id);
      } catch (e) {
        // The intent was already closed as "outcome unknown" (it outlived its expiry while the bus retried).
        // The board did pulse: follow the door anyway; the audit log keeps the earlier verdict and this note.
        this.log.warn(
          { compartment: req.compartmentNo, intentId: id, err: e instanceof Error ? e.message : String(e) },
          'unlock acknowledged after its intent was closed',
        );
      }
      return true;
    } catch (e) {
      // The store could not record the send (disk full, read-only, I/O error): the driver sent nothing. Not a link error.
      if (classifyStorageError(e)) throw e;
      const err = isCabinetError(e) ? e : new CabinetError('LINK_TIMEOUT', e instanceof Error ? e.message : String(e));
      try {
        markIntentFailed(store.ctx, id, `${err.code}: ${err.message}`);
        this.times.noted(id);
      } catch {
        // already expired by claimIntentForSend: nothing was sent
      }
      this.log.warn({ compartment: req.compartmentNo, code: err.code }, 'unlock failed');
      return err;
    }
  }

  /**
   * An opening of this unlock's door that no door fact recorded (store/unlocks.ts, UnseenOpening): proven, or possible
   * — written unless an opening is on record already. Only for an unlock that went out (it has a sequence number).
   */
  private unseenOpening(intent: UnlockIntent | undefined, action: UnseenOpening, evidence: string): void {
    if (!intent) return;
    const now = getIntent(this.d.store.ctx, intent.id);
    if (!now || now.seq === null) return;
    recordUnseenOpening(this.d.store.ctx, { intent: now, action, evidence });
  }

  /** The id this process's first intent got (or will get): rows from there on are counted by the monotonic clock. */
  private firstOwnIntentId(): number {
    this.ownFromId ??= firstIntentIdFromNow(this.d.store.ctx);
    return this.ownFromId;
  }

  /**
   * After an unlock the door was not seen open: read the board's status (door, item sensor, event counter).
   * 'untouched' only when the door is shut, the item is as it was, and no board event went missing meanwhile;
   * otherwise what says the door may have opened (the caller then settles by the sensors, with no second pulse).
   */
  private async boardSays(
    no: number,
    itemBefore: string,
    lostBefore: number,
  ): Promise<'untouched' | 'open' | 'item_changed' | 'events_lost' | 'unreadable'> {
    let now;
    try {
      now = await this.d.driver.readCompartment(no);
    } catch {
      return 'unreadable';
    }
    if (now.door === 'open') return 'open';
    if (now.door !== 'closed' || now.item === 'unknown' || itemBefore === 'unknown') return 'unreadable';
    if (now.item !== itemBefore) return 'item_changed';
    if ((this.d.driver.snapshot().counters.lostEvents ?? 0) !== lostBefore) return 'events_lost';
    return 'untouched';
  }

  /**
   * Wait until the door of a compartment is open (or closed). Resolves false after `timeoutMs`. An opening found by a
   * version 2 board's count counts as the door having opened.
   * With no timeout it waits as long as it takes, raising a "door left open" alarm once when a
   * door stays open longer than DOOR_LEFT_OPEN_MS.
   */
  waitDoor(no: number, open: boolean, timeoutMs?: number): Promise<boolean> {
    const { driver } = this.d;
    const now = () => driver.snapshot().compartments[no - 1]?.door;
    if (now() === (open ? 'open' : 'closed')) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const onDoor = (e: { compartment: number; open: boolean }) => {
        if (e.compartment === no && e.open === open) finish(true);
      };
      // An opening a version 2 board counted with both its DOOR events lost (PROTOCOL.md §21.3) opened the door too,
      // and shut it again: recorded (attributed to the unlock) by the flows before this resolves.
      const onCounted = (e: { compartment: number }) => {
        if (open && e.compartment === no) finish(true);
      };
      const finish = (v: boolean) => {
        driver.off('door', onDoor);
        driver.off('hidden-openings', onCounted);
        for (const t of timers) clearTimeout(t);
        resolve(v);
      };
      driver.on('door', onDoor);
      driver.on('hidden-openings', onCounted);
      if (timeoutMs !== undefined) timers.push(setTimeout(() => finish(false), timeoutMs));
      if (!open) {
        const t = setTimeout(() => {
          this.d.bus.alarm('door_left_open', said('alarm.door_left_open', { no }), { compartment: no });
        }, this.d.config.doorLeftOpenMs);
        t.unref();
        timers.push(t);
      }
    });
  }

  /**
   * Wait for the door to close, then ask the board (not the cache) whether an item is inside. Boards
   * without occupancy sensors (vendor families, config.itemSensors false) cannot tell: the door having
   * opened and closed stands for the operation done, and `expected` (what it should leave inside) is
   * the answer.
   */
  async closedWithItem(no: number, expected: boolean): Promise<boolean> {
    await this.waitDoor(no, false);
    crashPoint('door_closed');
    if (this.d.config.itemSensors === false) return expected;
    try {
      const c = await this.d.driver.readCompartment(no);
      return c.item === 'present';
    } catch {
      return this.d.driver.snapshot().compartments[no - 1]?.item === 'present';
    }
  }

  setCompartment(
    no: number,
    to: CompartmentState,
    actor: Actor,
    opts: {
      expectFrom?: CompartmentState;
      clearContents?: boolean;
      faultReason?: FaultWordKey;
      note?: string;
      said?: Said;
      doorOutcome?: DoorOutcome;
    } = {},
  ): void {
    transitionCompartment(this.d.store.ctx, no, { to, actor, ...opts });
    this.emitCompartment(no);
  }

  private emitCompartment(no: number): void {
    const c = requireCompartment(this.d.store.ctx, no);
    this.d.bus.emit('compartment', { no, state: c.state, door: c.door, requestId: c.contents?.requestId ?? null });
  }
}
