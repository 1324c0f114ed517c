/**
 * The cabinet's job, as explicit sequences over the store and the doors:
 *   load (staff puts a ready document in), pickup (resident takes it out), drop-off (resident
 *   leaves materials for staff), retrieval (staff takes back an overdue document or materials),
 *   force-open, disable/enable — and "what happens when a resident scans" (`scan`, `pickupByCode`).
 *
 * A flow answers as soon as the door is open (or cannot be opened); what the door does next
 * (closed with or without the item) finishes the flow in the background and is published on the
 * event bus. `done` is there for tests and logs.
 */
import type { BoardDriver, OpeningsBaselineFact } from '../board/driver.js';
import type { Config } from '../config.js';
import { inServiceState } from '../domain/compartment-states.js';
import { LateDoorFacts, type LateDoorFact } from '../domain/late-records.js';
import { kioskActor, staffActor, SYSTEM_ACTOR, type Actor } from '../domain/types.js';
import { CabinetError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import {
  appendAudit,
  checkpointNow,
  findOverdueCandidates,
  getCompartment,
  parseResidentQrToken,
  getStaff,
  holdCommit,
  localDateTime,
  recordDoorFact,
  recordLateDoorFacts,
  wouldBeUnexplainedOpening,
  recordCountedOpenings,
  keptOpeningsBaselines,
  listCompartments,
  requireRequest,
  reserveCompartment,
  resolveResidentQr,
  transitionRequest,
  verifyCode,
  verifyRequestQr,
  type Compartment,
  type Store,
  type UnlockReason,
  type VerifyResult,
} from '../store/index.js';
import { erasePersonalDataInBatches } from '../store/retention.js';
import type { UnlockPolicySettings } from '../domain/unlock-policy.js';
import { classifyStorageError, storageError, storageSaid, type StorageHealth } from '../store/storage-health.js';
import { said, type Said } from '../words/keys.js';
import { crashPoint } from './crash-points.js';
import { Doors, type OpenOutcome } from './doors.js';

export interface FlowDeps {
  store: Store;
  driver: BoardDriver;
  bus: EventBus;
  config: Pick<Config, 'doorOpenTimeoutMs' | 'doorLeftOpenMs' | 'overdueDays'> &
    UnlockPolicySettings &
    Partial<Pick<Config, 'retentionDays' | 'itemSensors'>>;
  logger: Logger;
  /** Whether the database can record a door opening; without it, assumed writable. */
  storage?: StorageHealth;
  /** The monotonic clock of deadlines, the per-minute cap and door-opening attribution (ms); performance.now() unless a test injects one. */
  monotonicNow?: () => number;
}

/** How a flow ended once the door closed again. */
export type Final =
  | 'loaded'
  | 'load_aborted'
  | 'collected'
  | 'item_not_taken'
  | 'deposited'
  | 'deposit_aborted'
  | 'retrieved'
  | 'item_still_inside'
  | 'materials_retrieved'
  | 'closed'
  | 'not_opened'
  | 'not_sent'
  /** The flow stopped on an unexpected error (logged, alarmed); start-up reconciliation finishes its rows. */
  | 'failed';

export interface DoorAnswer {
  /** The door is open now. */
  opened: boolean;
  compartment: number | null;
  /** Why not, when not opened: a code, and what to tell staff (words by the catalogue at the edge). */
  code: 'OPENED' | 'CABINET_FULL' | 'NOT_OPENED' | 'NOT_SENT';
  said: Said;
  done: Promise<Final>;
}

export type KioskCode =
  | 'OPENED'
  | 'INVALID'
  | 'USED'
  | 'LOCKED'
  | 'NOTHING_WAITING'
  | 'CABINET_FULL'
  | 'NOT_OPENED'
  | 'OUT_OF_ORDER'
  | 'NOT_READY'
  | 'OUT_OF_SERVICE'
  | 'UNKNOWN_SCAN';

/** How a resident's door ended when it closed (sent on the kiosk channel as a scan event's outcome). */
export type DoorClosedCode = 'COLLECTED' | 'ITEM_NOT_TAKEN' | 'DEPOSITED' | 'NOTHING_DEPOSITED';

/** What the kiosk screen is told after a scan or a typed code: never who the resident is. */
export interface KioskAnswer {
  ok: boolean;
  code: KioskCode;
  /** What the open door is for: taking a document out, or putting materials in. */
  action: 'pickup' | 'dropoff' | null;
  /** What to tell the resident (words by the catalogue at the edge; the kiosk page has its own by `code`). */
  said: Said;
  /** Compartments now open, in the order they were opened. */
  compartments: number[];
  retryAfterMs?: number;
  /** INVALID after a typed code: wrong tries left before the kiosk must wait (LOCKED then says how long). */
  triesLeft?: number;
  done: Promise<Final[]>;
}

const resolved = <T>(v: T) => Promise.resolve(v);

export class CabinetFlows {
  readonly doors: Doors;
  private readonly log: Logger;
  private ready = false;
  private overdueTimer: NodeJS.Timeout | null = null;
  /** Door changes the store could not write when they were seen: written as soon as it can write again. */
  private readonly late = new LateDoorFacts();

  constructor(private readonly d: FlowDeps) {
    this.log = d.logger.child({ ns: 'flows' });
    this.doors = new Doors(d);
    // Every door change the board reports becomes a committed fact; an opening no unlock explains is tamper.
    d.driver.on('door', (e) => this.onDoor(e.compartment, e.open, e.source, e.ageMs));
    // The store can write again: the door changes kept meanwhile are written first, before anything reads the record
    // (this listener is registered before the controller's own, which reconciles).
    d.storage?.onChange((st) => {
      if (st.problem === null) this.tryWriteLate();
    });
    // Openings a version 2 board counted and no DOOR event reported (PROTOCOL.md §21.3): facts too, tamper if unexplained;
    // kept with the board's baseline, which a restart compares with the board's first STATUS.
    d.driver.on('openings', (e) => this.onCountedOpenings(e.found, e.baseline));
    this.restoreOpeningsBaselines();
    d.driver.on('link', (e) => {
      if (e.state === 'offline') d.bus.alarm('link_offline', said('alarm.link_offline'));
    });
    d.driver.on('boot', (e) => d.bus.alarm('board_rebooted', said('alarm.board_rebooted', { board: e.addr })));
  }

  /** Door actions are refused until start-up reconciliation has run (see reconcile.ts). */
  markReady(): void {
    if (this.stopping) return;
    this.ready = true;
  }

  /** Door actions refused again until reconciliation has run (after the store recovered from a failure). */
  markNotReady(): void {
    this.ready = false;
  }

  /**
   * Every flow that goes on in the background (after the door opened) ends here: an unexpected error is
   * logged, reported to the storage health (disk full, read-only, I/O error) and raised as an alarm; the
   * promise resolves 'failed' and never rejects. The rows committed so far are finished by reconciliation.
   */
  background<T>(what: string, compartments: number[], p: Promise<T>, failed: T): Promise<T> {
    for (const no of compartments) this.doors.live.add(no);
    return p
      .then(
        (v) => v,
        (e: unknown) => {
          this.failed(what, compartments, e);
          return failed;
        },
      )
      .finally(() => {
        for (const no of compartments) this.doors.live.delete(no);
        // The last door flow ended: a quiet moment to checkpoint the log, off the path of the next unlock.
        if (this.doors.live.size === 0) setImmediate(() => this.checkpointIfQuiet());
      });
  }

  /** The write-ahead log copied into the database while no door flow runs (store/db.ts checkpointNow, ADR 0005). */
  private checkpointIfQuiet(): void {
    const { db } = this.d.store;
    if (this.doors.live.size > 0 || !db.open || db.inTransaction) return;
    try {
      checkpointNow(db);
    } catch (e) {
      this.d.storage?.report(e);
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not checkpoint the database log');
    }
  }

  /** A door flow stopped on an unexpected error: log it, mark the store out of service if it is one, alarm. */
  failed(what: string, compartments: number[], e: unknown): void {
    const storage = this.d.storage?.report(e) ?? false;
    this.log.error({ what, compartments, err: e instanceof Error ? e.message : String(e), storage }, 'a door flow stopped on an error');
    try {
      this.d.bus.alarm(
        'flow_failed',
        compartments.length ? said('alarm.flow_failed', { doors: compartments }) : said('alarm.flow_failed_kiosk'),
        compartments.length === 1 ? { compartment: compartments[0]! } : {},
      );
    } catch {
      // the alarm could not be stored either: the log line above stays
    }
  }

  /** The store cannot record a door opening right now: the reason in words, or null. */
  private outOfService(): CabinetError | null {
    const st = this.d.storage;
    if (!st || st.ok) return null;
    return storageError(st.current.problem!);
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** How many door changes wait to be written because the store could not write them when seen: counts only. */
  get lateDoorChanges(): { readonly kept: number; readonly notKept: number } {
    return this.late.counts;
  }

  /** Shutting down: every new door action is refused from now on; flows already running go on. */
  stopDoorActions(): void {
    this.ready = false;
    this.stopping = true;
  }

  private stopping = false;

  private assertReady(): void {
    if (this.stopping) throw new CabinetError('LINK_OFFLINE', said('door.stopping'));
    const oos = this.outOfService();
    if (oos) throw oos;
    if (!this.ready) throw new CabinetError('LINK_OFFLINE', said('door.checking'));
  }

  private onDoor(no: number, open: boolean, source: 'event' | 'resync', ageMs: number | null): void {
    const fact: LateDoorFact = {
      compartmentNo: no,
      door: open ? 'open' : 'closed',
      source: source === 'event' ? 'event' : 'poll',
      ageMs,
      at: this.d.store.ctx.now(),
      inProcess: this.doors.ownUnlocks(ageMs),
      beforeReady: !this.ready,
    };
    // Changes kept while the store could not write go first: the record keeps the order the doors moved in.
    if (this.late.waiting && !this.tryWriteLate()) {
      this.keepLate(fact);
      return;
    }
    try {
      const outcome = recordDoorFact(
        this.d.store.ctx,
        { compartmentNo: no, door: fact.door, source: fact.source, ageMs, inProcess: fact.inProcess },
        this.doors.policy,
      );
      // Before start-up reconciliation a first reading of a door is left to it (it knows which flows were cut off),
      // but a door the board sees open now, with no unlock to explain it, is tamper whatever the controller is doing.
      if (outcome.unexplainedOpen && (this.ready || source === 'event')) {
        this.d.driver.countTamper();
        this.d.bus.alarm('tamper', said('alarm.tamper', { no }), { compartment: no });
      }
      this.emitCompartmentOf(no);
    } catch (e) {
      this.d.storage?.report(e);
      if (classifyStorageError(e)) this.keepLate(fact);
      else this.log.error({ err: e instanceof Error ? e.message : String(e), compartment: no }, 'could not record a door change');
    }
  }

  private emitCompartmentOf(no: number): void {
    const c = getCompartment(this.d.store.ctx, no);
    if (c) this.d.bus.emit('compartment', { no, state: c.state, door: c.door, requestId: c.contents?.requestId ?? null });
  }

  /**
   * A door change the store could not write: into the system log at once, and kept to be written later. An opening
   * nothing explains is tamper now all the same (the record can still be read): the alarm does not wait for the disk.
   */
  private keepLate(seen: LateDoorFact): void {
    const f = this.tamperNow(seen) ? { ...seen, alarmed: true } : seen;
    const kept = this.late.keep(f);
    const entry = { compartment: f.compartmentNo, door: f.door, source: f.source, at: new Date(f.at).toISOString(), kept };
    if (kept === 'kept') this.log.warn(entry, 'a door change could not be recorded: kept, to be written once the database can be written');
    else this.log.error(entry, 'a door change could not be recorded, and too many wait already: only counted');
  }

  /** Whether a change that cannot be written is an opening nothing explains, by what the record says: alarmed if so. */
  private tamperNow(f: LateDoorFact): boolean {
    // Behind kept changes of this door the record is not its latest state: the verdict waits for them to be written.
    if (f.door !== 'open' || this.late.waitingFor(f.compartmentNo) || (f.beforeReady && f.source !== 'event')) return false;
    try {
      const { compartmentNo, door, source, ageMs, inProcess } = f;
      if (!wouldBeUnexplainedOpening(this.d.store.ctx, { compartmentNo, door, source, ageMs, inProcess }, this.doors.policy)) return false;
    } catch {
      return false; // not even readable: the verdict waits for the write
    }
    this.d.driver.countTamper();
    this.d.bus.alarm('tamper', said('alarm.tamper', { no: f.compartmentNo }), { compartment: f.compartmentNo });
    return true;
  }

  /**
   * Writes the door changes kept while the store could not write, in one transaction, each at the time it was seen
   * and marked as late; an opening nothing explains raises the tamper alarm now, with its time. Throws (the store
   * told) when they still cannot be written.
   */
  writeLateDoorChanges(): void {
    if (!this.late.waiting) return;
    const batch = this.late.pending();
    const outcomes = recordLateDoorFacts(this.d.store.ctx, batch, this.doors.policy);
    this.late.written();
    this.log.warn(
      { written: batch.facts.length, notKept: batch.notKept?.count ?? 0 },
      'door changes seen while the database could not be written are recorded now',
    );
    for (const [i, r] of outcomes.entries()) {
      const f = batch.facts[i]!;
      if (r.unexplainedOpen && !f.alarmed && (!f.beforeReady || f.source === 'event')) {
        this.d.driver.countTamper();
        const time = localDateTime(f.at, this.d.store.ctx.utcOffsetMinutes);
        this.d.bus.alarm('tamper', said('alarm.tamper_late', { no: f.compartmentNo, time }), { compartment: f.compartmentNo });
      }
    }
    for (const no of new Set(outcomes.map((r) => r.compartmentNo))) this.emitCompartmentOf(no);
    if (batch.notKept) this.d.bus.alarm('storage', said('alarm.door_changes_not_recorded', { count: batch.notKept.count }));
  }

  /** writeLateDoorChanges, for callers that go on either way: true when nothing waits any more. */
  private tryWriteLate(): boolean {
    try {
      this.writeLateDoorChanges();
      return true;
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      if (this.d.storage?.report(e) ?? classifyStorageError(e) !== null) {
        this.log.warn({ err }, 'door changes kept while the database could not be written: still not written');
        return false;
      }
      // Not the store's state but these rows: never let them hold up every later door change. They are in the log.
      this.log.error({ err, changes: this.late.pending() }, 'door changes kept while the database could not be written cannot be written: left out');
      this.late.written();
      return true;
    }
  }

  /** The baselines of door-opening counts kept before this process started, to the driver before its first STATUS. */
  private restoreOpeningsBaselines(): void {
    try {
      const kept = keptOpeningsBaselines(this.d.store.ctx);
      if (kept.length === 0) return;
      const doors = new Map(listCompartments(this.d.store.ctx).map((c) => [c.no, c.door]));
      this.d.driver.restoreOpenings(kept.map((k) => ({ ...k, counts: [...k.counts], doors })));
    } catch (e) {
      // Nothing kept is read: the first STATUS sets a new baseline, as after a board restart.
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'could not read the kept door-opening counts');
    }
  }

  private onCountedOpenings(
    found: readonly { compartment: number; count: number; ageMs: number | null }[],
    baseline: OpeningsBaselineFact | null,
  ): void {
    const at = this.d.store.ctx.now();
    const seen = found.map((f) => ({ ...f, inProcess: this.doors.ownUnlocks(f.ageMs) }));
    // Changes kept while the store could not write go first, as for a door event; behind them these are kept too.
    if (this.late.waiting && !this.tryWriteLate()) {
      for (const f of seen) this.keepCountedLate(f, at);
      return;
    }
    // While door changes wait to be written, a baseline written now would claim them as on record before they are.
    const keep = this.late.waiting ? null : baseline;
    if (found.length === 0 && keep === null) return;
    try {
      const outcomes = recordCountedOpenings(
        this.d.store.ctx,
        {
          found: found.map((f) => ({ compartmentNo: f.compartment, count: f.count, ageMs: f.ageMs })),
          baseline: keep,
          inProcess: (ageMs) => this.doors.ownUnlocks(ageMs),
        },
        this.doors.policy,
      );
      for (const { compartmentNo: no, outcome } of outcomes) {
        if (outcome.unexplained > 0) {
          this.d.driver.countTamper();
          this.d.bus.alarm('tamper', said('alarm.tamper_hidden', { no, count: outcome.unexplained }), { compartment: no });
        }
        this.emitCompartmentOf(no);
      }
    } catch (e) {
      this.d.storage?.report(e);
      if (classifyStorageError(e)) for (const f of seen) this.keepCountedLate(f, at);
      else
        this.log.error(
          { err: e instanceof Error ? e.message : String(e), found: found.map((f) => [f.compartment, f.count]) },
          'could not record door openings found by count',
        );
    }
  }

  /**
   * Openings a board counted that the store cannot write now: kept like door changes, each as an opening and a closing
   * in the order that leaves the door as it is recorded (or as the changes kept before it leave it), marked byCount;
   * an opening nothing explains is tamper now all the same. The baseline is not written: the door changes written
   * later come after the one kept, and count as seen at the next start.
   */
  private keepCountedLate(f: { compartment: number; count: number; ageMs: number | null; inProcess: LateDoorFact['inProcess'] }, at: number): void {
    const no = f.compartment;
    let recorded = this.late.lastDoor(no);
    if (recorded === null) {
      try {
        recorded = getCompartment(this.d.store.ctx, no)?.door === 'open' ? 'open' : 'closed';
      } catch {
        recorded = 'closed'; // not even readable
      }
    }
    const doors: ('open' | 'closed')[] = recorded === 'open' ? ['closed', 'open'] : ['open', 'closed'];
    for (let i = 0; i < f.count; i++)
      for (const door of doors) this.keepLate({ compartmentNo: no, door, source: 'poll', ageMs: f.ageMs, at, inProcess: f.inProcess, byCount: true });
  }

  private emitRequest(id: number, from: string | null): void {
    const r = requireRequest(this.d.store.ctx, id);
    this.d.bus.emit('request', { id, number: r.number, state: r.state, from });
  }

  private transition(requestId: number, event: Parameters<typeof transitionRequest>[1]['event'], actor: Actor, reason?: string): void {
    const out = transitionRequest(this.d.store.ctx, { requestId, event, actor, ...(reason ? { reason } : {}) });
    this.emitRequest(requestId, out.from);
  }

  // ------------------------------------------------------------------ staff: load

  /**
   * Staff loads a ready document: reserve a free compartment, open it, and when the door closes
   * with an item inside the request is loaded (pickup code issued, resident notified).
   */
  async load(staffId: number, requestId: number): Promise<DoorAnswer> {
    this.assertReady();
    const actor = staffActor(staffId);
    const req = requireRequest(this.d.store.ctx, requestId);
    if (req.state !== 'ready') {
      throw new CabinetError('TRANSITION_NOT_ALLOWED', said('door.load_not_ready', { number: req.number }), { requestId, state: req.state });
    }
    // A compartment whose door will not open becomes a fault, and the next free one is offered at once.
    const faulty: number[] = [];
    for (let tries = 0; tries < 2; tries++) {
      const c = reserveCompartment(this.d.store.ctx, { requestId, direction: 'for_resident' }, actor);
      if (!c) return faulty.length ? this.notOpenedAfter(faulty) : this.full();
      crashPoint('load.reserved');
      this.transition(requestId, 'start_load', actor);
      crashPoint('load.started');
      const opened = await this.doors.open({ compartmentNo: c.no, requestId, actor, reason: 'load' });
      if (opened.opened) {
        const done = this.background('load', [c.no], this.finishLoad(c.no, requestId, actor), 'failed');
        return this.openedAnswer(
          c.no,
          done,
          faulty.length ? said('door.load_opened_instead', { doors: faulty, no: c.no }) : said('door.load_opened', { no: c.no }),
        );
      }
      this.transition(requestId, 'load_aborted', actor);
      if (opened.why === 'not_sent')
        return this.notOpened(c.no, opened, actor, () => this.doors.setCompartment(c.no, 'free', actor, { clearContents: true }), {
          fault: true,
          clearContents: true,
        });
      this.faultAfterNotOpened(c.no, actor, true);
      faulty.push(c.no);
    }
    return this.notOpenedAfter(faulty);
  }

  private notOpenedAfter(faulty: number[]): DoorAnswer {
    return {
      opened: false,
      compartment: faulty[faulty.length - 1] ?? null,
      code: 'NOT_OPENED',
      done: resolved<Final>('not_opened'),
      said: said('door.load_not_opened', { doors: faulty }),
    };
  }

  /** After the door of a loading compartment closed: item inside → loaded; empty → back to ready. */
  async finishLoad(no: number, requestId: number, actor: Actor): Promise<Final> {
    const item = await this.doors.closedWithItem(no, true);
    if (item) {
      this.transition(requestId, 'load_done', actor);
      crashPoint('load.done');
      this.doors.setCompartment(no, 'occupied', actor);
      return 'loaded';
    }
    this.transition(requestId, 'load_aborted', actor);
    this.doors.setCompartment(no, 'free', actor, { clearContents: true, said: said('note.closed_no_document') });
    return 'load_aborted';
  }

  // ------------------------------------------------------------------ residents at the kiosk

  /**
   * What happens when something is scanned at the kiosk (serial scanner or keyboard-wedge input):
   * the answer goes back to the caller and, for the kiosk screen, onto the event bus.
   */
  async scan(text: string, deviceId: string, source: 'scanner' | 'kiosk' = 'kiosk'): Promise<KioskAnswer> {
    if (this.outOfService()) return this.publish(source, 'qr', this.kiosk('OUT_OF_SERVICE'));
    if (!this.ready) return this.publish(source, 'qr', this.kiosk('NOT_READY'));
    // The check and the first unlock in one commit (store/db.ts holdCommit; docs/adr/0005-unlock-commits.md).
    return this.publish(source, 'qr', await this.kioskGuard(() => holdCommit(this.d.store.db, () => this.scanned(text, deviceId))));
  }

  /** The resident typed the 8-digit pickup code and the last 4 digits of the phone. */
  async pickupByCode(code: string, phoneLast4: string, deviceId: string): Promise<KioskAnswer> {
    if (this.outOfService()) return this.publish('kiosk', 'code', this.kiosk('OUT_OF_SERVICE'));
    if (!this.ready) return this.publish('kiosk', 'code', this.kiosk('NOT_READY'));
    // The check and the first unlock in one commit (store/db.ts holdCommit; docs/adr/0005-unlock-commits.md).
    const answer = await this.kioskGuard(() =>
      holdCommit(this.d.store.db, async () => {
        const verified = verifyCode(this.d.store.ctx, { code, phoneLast4, deviceId });
        return !verified.ok
          ? this.refused(verified)
          : verified.purpose === 'pickup'
            ? await this.pickups([verified.requestId], deviceId)
            : await this.deposit(verified.requestId, deviceId);
      }),
    );
    return this.publish('kiosk', 'code', answer);
  }

  /** A storage failure while answering the kiosk is an answer in words, not an error page. */
  private async kioskGuard(run: () => Promise<KioskAnswer>): Promise<KioskAnswer> {
    try {
      return await run();
    } catch (e) {
      if (this.d.storage?.report(e)) {
        this.failed('kiosk', [], e);
        return this.kiosk('OUT_OF_SERVICE');
      }
      throw e;
    }
  }

  /**
   * A resident's door closed and the sensors said what is inside: the kiosk screen (and the console) hear how it
   * ended, so the screen never says "closed, thank you" over a document left behind or an empty drop-off.
   */
  private closed(no: number, action: 'pickup' | 'dropoff', outcome: DoorClosedCode, words: Said): void {
    this.d.bus.emit('scan', { source: 'kiosk', kind: 'qr', outcome, action, compartments: [no], said: words });
  }

  private publish(source: 'scanner' | 'kiosk', kind: 'qr' | 'code', a: KioskAnswer): KioskAnswer {
    this.d.bus.emit('scan', {
      source,
      kind,
      outcome: a.code,
      action: a.action,
      compartments: a.compartments,
      said: a.said,
      ...(a.retryAfterMs !== undefined ? { retryAfterMs: a.retryAfterMs } : {}),
    });
    return a;
  }

  private async scanned(text: string, deviceId: string): Promise<KioskAnswer> {
    this.assertReady();
    const token = extractToken(text);
    if (!token) return this.kiosk('UNKNOWN_SCAN');
    // A resident's own QR opens everything waiting for them; a request's QR opens that one.
    // Which kind it is comes from the signed token itself; a token of neither kind counts as a failed try.
    if (parseResidentQrToken(this.d.store.keys, token)) {
      const resident = resolveResidentQr(this.d.store.ctx, { token, deviceId });
      if (!resident.ok) return this.refused(resident);
      const pickups = resident.waiting.filter((w) => w.purpose === 'pickup');
      if (pickups.length > 0)
        return this.pickups(
          pickups.map((w) => w.requestId),
          deviceId,
        );
      const deposit = resident.waiting.find((w) => w.purpose === 'deposit');
      if (deposit) return this.deposit(deposit.requestId, deviceId);
      return this.kiosk('NOTHING_WAITING');
    }
    const verified = verifyRequestQr(this.d.store.ctx, { token, deviceId });
    if (!verified.ok) return this.refused(verified);
    return verified.purpose === 'pickup' ? this.pickups([verified.requestId], deviceId) : this.deposit(verified.requestId, deviceId);
  }

  /** Open each waiting document's compartment, one after another; each finishes when its door closes. */
  private async pickups(requestIds: number[], deviceId: string): Promise<KioskAnswer> {
    const actor = kioskActor(deviceId);
    const opened: number[] = [];
    const finals: Promise<Final>[] = [];
    let failure: OpenOutcome | null = null;
    let outOfOrder = false;
    for (const requestId of requestIds) {
      const c = this.compartmentOf(requestId);
      // A document in a compartment whose door would not open stays there on record; staff repair and put it back.
      if (c?.state === 'fault' && c.contents?.requestId === requestId) outOfOrder = true;
      if (!c || c.state !== 'occupied' || c.contents?.requestId !== requestId) continue;
      const outcome = await this.doors.open({ compartmentNo: c.no, requestId, actor, reason: 'pickup' });
      if (!outcome.opened) {
        failure = outcome;
        if (outcome.why === 'not_opened') this.faultAfterNotOpened(c.no, actor);
        continue;
      }
      opened.push(c.no);
      finals.push(this.finishPickup(c.no, requestId, actor));
    }
    if (opened.length === 0) {
      if (outOfOrder && !failure) return this.kiosk('OUT_OF_ORDER');
      return failure ? this.kiosk('NOT_OPENED') : this.kiosk('NOTHING_WAITING');
    }
    return {
      ok: true,
      code: 'OPENED',
      action: 'pickup',
      compartments: opened,
      done: this.background(
        'pickup',
        opened,
        Promise.all(finals),
        opened.map((): Final => 'failed'),
      ),
      said: said('door.kiosk_opened_pickup', { doors: opened }),
    };
  }

  /** After a pickup door closed: empty → collected (credentials revoked); still inside → stays, staff alerted. */
  async finishPickup(no: number, requestId: number, actor: Actor): Promise<Final> {
    const item = await this.doors.closedWithItem(no, false);
    if (!item) {
      this.transition(requestId, 'collect', actor);
      crashPoint('pickup.collected');
      this.doors.setCompartment(no, 'free', actor, { clearContents: true });
      this.closed(no, 'pickup', 'COLLECTED', said('door.closed_collected', { no }));
      return 'collected';
    }
    this.doors.setCompartment(no, 'occupied', actor, { doorOutcome: 'item_not_taken', said: said('note.closed_document_inside') });
    this.closed(no, 'pickup', 'ITEM_NOT_TAKEN', said('door.closed_item_not_taken', { no }));
    this.d.bus.alarm('item_not_taken', said('alarm.item_not_taken', { no }), { compartment: no, requestId });
    return 'item_not_taken';
  }

  /** A resident drops off materials for a request awaiting them. */
  private async deposit(requestId: number, deviceId: string): Promise<KioskAnswer> {
    const actor = kioskActor(deviceId);
    const c = reserveCompartment(this.d.store.ctx, { requestId, direction: 'for_staff' }, actor);
    if (!c) return this.kiosk('CABINET_FULL');
    // Told to the consoles once the unlock is on its way (its frame written, or queued with its intent committed):
    // between the scan and the frame there is only the check, the reservation and the intent.
    const { from } = transitionRequest(this.d.store.ctx, { requestId, event: 'start_deposit', actor });
    const opening = this.doors.open({ compartmentNo: c.no, requestId, actor, reason: 'deposit' });
    this.emitRequest(requestId, from);
    const outcome = await opening;
    if (!outcome.opened) {
      this.transition(requestId, 'deposit_aborted', actor);
      if (outcome.why === 'not_opened') this.faultAfterNotOpened(c.no, actor, true);
      else this.doors.setCompartment(c.no, 'free', actor, { clearContents: true });
      return this.kiosk('NOT_OPENED');
    }
    const done = this.background(
      'deposit',
      [c.no],
      this.finishDeposit(c.no, requestId, actor).then((f) => [f]),
      ['failed' as Final],
    );
    return {
      ok: true,
      code: 'OPENED',
      action: 'dropoff',
      compartments: [c.no],
      done,
      said: said('door.kiosk_opened_dropoff', { doors: [c.no] }),
    };
  }

  async finishDeposit(no: number, requestId: number, actor: Actor): Promise<Final> {
    const item = await this.doors.closedWithItem(no, true);
    if (item) {
      this.transition(requestId, 'deposit', actor);
      crashPoint('deposit.done');
      this.doors.setCompartment(no, 'occupied', actor);
      const r = requireRequest(this.d.store.ctx, requestId);
      this.d.bus.alarm('materials_deposited', said('alarm.materials_deposited', { number: r.number, no }), { compartment: no, requestId });
      this.closed(no, 'dropoff', 'DEPOSITED', said('door.closed_deposited', { no }));
      return 'deposited';
    }
    this.transition(requestId, 'deposit_aborted', actor);
    this.doors.setCompartment(no, 'free', actor, { clearContents: true, doorOutcome: 'nothing_deposited', said: said('note.closed_nothing_inside') });
    this.closed(no, 'dropoff', 'NOTHING_DEPOSITED', said('door.closed_nothing_deposited', { no }));
    return 'deposit_aborted';
  }

  // ------------------------------------------------------------------ staff: retrieval, force-open, disable

  /** Staff takes back an overdue document (admins: any loaded one) or dropped-off materials. */
  async retrieve(staffId: number, requestId: number): Promise<DoorAnswer> {
    this.assertReady();
    const actor = staffActor(staffId);
    const req = requireRequest(this.d.store.ctx, requestId);
    const materials = req.state === 'materials_deposited';
    const event = materials ? 'retrieve_materials' : req.state === 'overdue' ? 'retrieve' : req.state === 'loaded' ? 'admin_retrieve' : null;
    if (!event) {
      throw new CabinetError('TRANSITION_NOT_ALLOWED', said('door.retrieve_nothing', { number: req.number }), { requestId, state: req.state });
    }
    if (event === 'admin_retrieve' && getStaff(this.d.store.ctx, staffId)?.role !== 'admin') {
      throw new CabinetError('ACTOR_NOT_ALLOWED', said('door.retrieve_admin_only'), { requestId });
    }
    const c = this.compartmentOf(requestId);
    // A fault compartment still holding the request may be tried again (after a repair, say).
    if (!c || (c.state !== 'occupied' && c.state !== 'fault') || c.contents?.requestId !== requestId) {
      throw new CabinetError('COMPARTMENT_STATE', said('door.retrieve_not_in_compartment', { number: req.number }), { requestId });
    }
    const reason: UnlockReason = materials ? 'retrieve_materials' : 'retrieve';
    const outcome = await this.doors.open({ compartmentNo: c.no, requestId, actor, reason });
    if (!outcome.opened) {
      // The item is still inside: the compartment becomes a fault that keeps it on record.
      return this.notOpened(c.no, outcome, actor, () => undefined, { fault: true, clearContents: false });
    }
    const done = this.background('retrieve', [c.no], this.finishRetrieve(c.no, requestId, actor, event), 'failed');
    return this.openedAnswer(c.no, done, said('door.retrieve_opened', { no: c.no }));
  }

  async finishRetrieve(no: number, requestId: number, actor: Actor, event: 'retrieve' | 'admin_retrieve' | 'retrieve_materials'): Promise<Final> {
    const item = await this.doors.closedWithItem(no, false);
    if (!item) {
      this.transition(requestId, event, actor);
      crashPoint(event === 'retrieve_materials' ? 'retrieve_materials.done' : 'retrieve.done');
      this.doors.setCompartment(no, 'free', actor, { clearContents: true });
      if (event !== 'retrieve_materials') return 'retrieved';
      this.d.bus.resolve('materials_deposited', requestId, actor, said('alarm.materials_taken_out'));
      return 'materials_retrieved';
    }
    this.doors.setCompartment(no, 'occupied', actor, { said: said('note.closed_item_inside') });
    return 'item_still_inside';
  }

  /** An administrator opens any compartment, with a mandatory reason; the contents' records are not changed. */
  async forceOpen(staffId: number, no: number, reason: string): Promise<DoorAnswer> {
    this.assertReady();
    const actor = staffActor(staffId);
    if (getStaff(this.d.store.ctx, staffId)?.role !== 'admin') {
      throw new CabinetError('ACTOR_NOT_ALLOWED', said('door.force_admin_only'));
    }
    if (!reason.trim()) throw new CabinetError('REASON_REQUIRED', said('door.force_reason_required'), { field: 'reason' });
    const c = getCompartment(this.d.store.ctx, no);
    if (!c) throw new CabinetError('NOT_FOUND', said('door.no_such_compartment', { no }), { compartmentNo: no });
    if (c.state === 'disabled') throw new CabinetError('COMPARTMENT_STATE', said('door.compartment_disabled', { no }), { compartmentNo: no });
    if (c.state === 'opening' || c.state === 'open')
      throw new CabinetError('COMPARTMENT_STATE', said('door.compartment_in_use', { no }), { compartmentNo: no, state: c.state });
    appendAudit(this.d.store.db, this.d.store.ctx.now(), {
      actor,
      action: 'compartment.force_open',
      compartmentNo: no,
      requestId: c.contents?.requestId ?? null,
      detail: { reason: reason.trim().slice(0, 200) },
    });
    const outcome = await this.doors.open({ compartmentNo: no, requestId: c.contents?.requestId ?? null, actor, reason: 'staff_open', attempts: 1 });
    this.log.info({ compartment: no, staffId, reason }, 'force-open');
    if (!outcome.opened) {
      // Back as it was (doors.open restored the state and contents); staff are told the lock did not answer.
      if (outcome.why === 'not_opened') this.d.bus.alarm('door_not_opened', said('alarm.door_not_opened_forced', { no }), { compartment: no });
      return this.notOpened(no, outcome, actor, () => undefined, { fault: false, clearContents: false });
    }
    const done = this.background(
      'force_open',
      [no],
      this.doors.closedWithItem(no, c.contents !== null).then((item): Final => {
        // Back to what the records say, if the sensor agrees; otherwise a fault for staff to look at.
        if (c.contents && item) this.doors.setCompartment(no, 'occupied', actor);
        else if (!c.contents && !item) this.doors.setCompartment(no, 'free', actor, { clearContents: true });
        else {
          this.doors.setCompartment(no, 'fault', actor, {
            faultReason: item ? 'fault.item_left_after_force_open' : 'fault.item_missing_after_force_open',
          });
          this.d.bus.alarm(item ? 'item_left_behind' : 'item_missing', said('alarm.force_open_mismatch', { no }), { compartment: no });
        }
        return 'closed';
      }),
      'failed',
    );
    return this.openedAnswer(no, done, said('door.force_opened', { no }));
  }

  setDisabled(staffId: number, no: number, disabled: boolean, reason: string): Compartment {
    const actor = staffActor(staffId);
    const c = getCompartment(this.d.store.ctx, no);
    if (!c) throw new CabinetError('NOT_FOUND', said('door.no_such_compartment', { no }), { compartmentNo: no });
    if (disabled && c.state !== 'free' && c.state !== 'fault') {
      throw new CabinetError('COMPARTMENT_STATE', said('door.disable_not_empty', { no }), { compartmentNo: no, state: c.state });
    }
    if (disabled && c.contents) {
      throw new CabinetError('COMPARTMENT_STATE', said('door.disable_holds_request', { no }), { compartmentNo: no });
    }
    if (!disabled && c.state !== 'disabled' && c.state !== 'fault' && c.state !== 'free') {
      throw new CabinetError('COMPARTMENT_STATE', said('door.enable_in_use', { no }), { compartmentNo: no, state: c.state });
    }
    // Back into service: a compartment that still holds a request is occupied by it, never "free".
    const to = disabled ? 'disabled' : inServiceState(c.contents !== null);
    this.doors.setCompartment(no, to, actor, { note: reason.trim().slice(0, 200) });
    return getCompartment(this.d.store.ctx, no)!;
  }

  // ------------------------------------------------------------------ overdue

  /** Mark documents loaded longer than OVERDUE_DAYS as overdue (their codes stay valid); returns how many. */
  markOverdue(): number {
    const due = findOverdueCandidates(this.d.store.ctx, this.d.config.overdueDays * 86_400_000);
    for (const r of due) {
      try {
        this.transition(r.id, 'mark_overdue', SYSTEM_ACTOR);
      } catch (e) {
        this.log.warn({ requestId: r.id, err: e instanceof Error ? e.message : String(e) }, 'could not mark overdue');
      }
    }
    return due.length;
  }

  /**
   * Erase the personal data of residents whose requests all ended more than RETENTION_DAYS ago; resolves with how
   * many. Works in small batches through indexes and yields between them, so a pickup never waits behind it.
   */
  async erasePersonalData(): Promise<number> {
    if (this.d.config.retentionDays === undefined || this.erasing) return 0;
    this.erasing = true;
    try {
      const n = await erasePersonalDataInBatches(this.d.store.ctx, this.d.config.retentionDays * 86_400_000);
      if (n > 0) this.log.info({ residents: n }, 'personal data erased after the retention period');
      return n;
    } finally {
      this.erasing = false;
    }
  }
  private erasing = false;

  /** The cabinet's own timetable: overdue marking and personal-data erasure, once a minute. */
  startJobs(intervalMs = 60_000): void {
    if (this.overdueTimer) return;
    this.overdueTimer = setInterval(() => {
      try {
        this.markOverdue();
        this.erasePersonalData().catch((e: unknown) =>
          this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'personal-data erasure failed'),
        );
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'scheduled job failed');
      }
    }, intervalMs);
    this.overdueTimer.unref();
  }

  stopJobs(): void {
    if (this.overdueTimer) clearInterval(this.overdueTimer);
    this.overdueTimer = null;
  }

  // ------------------------------------------------------------------ helpers

  private compartmentOf(requestId: number): Compartment | null {
    const no = requireRequest(this.d.store.ctx, requestId).compartmentNo;
    return no === null ? null : getCompartment(this.d.store.ctx, no);
  }

  /** A door that would not open even after a retry is a fault; what it holds stays recorded with it. */
  private faultAfterNotOpened(no: number, actor: Actor, clearContents = false): void {
    this.doors.setCompartment(no, 'fault', actor, { faultReason: 'fault.door_not_opened', clearContents });
    this.d.bus.alarm('door_not_opened', said('alarm.door_not_opened', { no }), { compartment: no });
  }

  private notOpened(
    no: number,
    outcome: Exclude<OpenOutcome, { opened: true }>,
    actor: Actor,
    whenSent: () => void,
    opts: { fault: boolean; clearContents: boolean },
  ): DoorAnswer {
    if (outcome.why === 'not_opened' && opts.fault) this.faultAfterNotOpened(no, actor, opts.clearContents);
    else whenSent();
    const notSent = outcome.why === 'not_sent';
    return {
      opened: false,
      compartment: no,
      code: notSent ? 'NOT_SENT' : 'NOT_OPENED',
      done: resolved<Final>(notSent ? 'not_sent' : 'not_opened'),
      said: notSent
        ? said('door.not_sent', { code: outcome.error.code })
        : opts.fault
          ? said('door.retrieve_not_opened', { no })
          : said('door.force_not_opened', { no }),
    };
  }

  private openedAnswer(no: number, done: Promise<Final>, words: Said): DoorAnswer {
    return { opened: true, compartment: no, code: 'OPENED', done, said: words };
  }

  private full(): DoorAnswer {
    return {
      opened: false,
      compartment: null,
      code: 'CABINET_FULL',
      done: resolved<Final>('not_sent'),
      said: said('door.cabinet_full'),
    };
  }

  private refused(r: Exclude<VerifyResult, { ok: true }>): KioskAnswer {
    if (r.reason === 'locked') return { ...this.kiosk('LOCKED'), retryAfterMs: r.retryAfterMs };
    if (r.reason === 'invalid' && r.triesLeft !== undefined) return { ...this.kiosk('INVALID'), triesLeft: r.triesLeft };
    return this.kiosk(r.reason === 'revoked' ? 'USED' : 'INVALID');
  }

  private kiosk(code: Exclude<KioskCode, 'OPENED'>): KioskAnswer {
    const words: Record<Exclude<KioskCode, 'OPENED'>, Said> = {
      INVALID: said('door.kiosk_invalid'),
      USED: said('door.kiosk_used'),
      LOCKED: said('door.kiosk_locked'),
      NOTHING_WAITING: said('door.kiosk_nothing_waiting'),
      CABINET_FULL: said('door.kiosk_cabinet_full'),
      NOT_OPENED: said('door.kiosk_not_opened'),
      OUT_OF_ORDER: said('door.kiosk_out_of_order'),
      NOT_READY: said('door.checking'),
      OUT_OF_SERVICE: this.d.storage && !this.d.storage.ok ? storageSaid(this.d.storage.current.problem!) : said('door.kiosk_out_of_service'),
      UNKNOWN_SCAN: said('door.kiosk_unknown_scan'),
    };
    return { ok: false, code, action: null, said: words[code], compartments: [], done: resolved<Final[]>([]) };
  }
}

/**
 * A scan is either a bare token or a link that carries it (the phone page shows a QR of a URL so
 * that a phone camera can open it too). Anything longer than a link or with odd characters is not ours.
 */
export function extractToken(text: string): string | null {
  const t = text.trim();
  if (t.length === 0 || t.length > 512) return null;
  if (/^[A-Za-z0-9_-]{16,64}$/.test(t)) return t;
  const m = /[?&#/](?:t|token|q)[=/]([A-Za-z0-9_-]{16,64})(?:$|[&#?])/.exec(t);
  return m ? m[1]! : null;
}
