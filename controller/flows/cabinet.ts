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
import type { BoardDriver } from '../board/driver.js';
import type { Config } from '../config.js';
import { inServiceState } from '../domain/compartment-states.js';
import { kioskActor, staffActor, SYSTEM_ACTOR, type Actor } from '../domain/types.js';
import { CabinetError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import {
  appendAudit,
  findOverdueCandidates,
  getCompartment,
  parseResidentQrToken,
  getStaff,
  recordDoorFact,
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
import { storageError, storageSaid, type StorageHealth } from '../store/storage-health.js';
import { say } from '../words/catalogue.js';
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
  /** Why not, when not opened: a code and words for the screen (Chinese first). */
  code: 'OPENED' | 'CABINET_FULL' | 'NOT_OPENED' | 'NOT_SENT';
  messageZh: string;
  messageEn: string;
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
  messageZh: string;
  messageEn: string;
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

  constructor(private readonly d: FlowDeps) {
    this.log = d.logger.child({ ns: 'flows' });
    this.doors = new Doors(d);
    // Every door change the board reports becomes a committed fact; an opening no unlock explains is tamper.
    d.driver.on('door', (e) => this.onDoor(e.compartment, e.open, e.source, e.ageMs));
    d.driver.on('link', (e) => {
      if (e.state === 'offline') d.bus.alarm('link_offline', '柜子控制板连接中断，正在重连。The lock board link is down; reconnecting.');
    });
    d.driver.on('boot', (e) => d.bus.alarm('board_rebooted', `控制板 ${e.addr} 重新启动。Lock board ${e.addr} restarted.`));
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
      });
  }

  /** A door flow stopped on an unexpected error: log it, mark the store out of service if it is one, alarm. */
  failed(what: string, compartments: number[], e: unknown): void {
    const storage = this.d.storage?.report(e) ?? false;
    this.log.error({ what, compartments, err: e instanceof Error ? e.message : String(e), storage }, 'a door flow stopped on an error');
    try {
      this.d.bus.alarm(
        'flow_failed',
        `${compartments.join('、')} 号柜的操作因错误中断，重启自检时会处理完。The operation at door ${compartments.join(', ')} stopped on an error; it is finished by the start-up check.`,
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

  /** Shutting down: every new door action is refused from now on; flows already running go on. */
  stopDoorActions(): void {
    this.ready = false;
    this.stopping = true;
  }

  private stopping = false;

  private assertReady(): void {
    if (this.stopping)
      throw new CabinetError('LINK_OFFLINE', '柜子正在停止服务，请稍后再试。The cabinet is shutting down; please try again shortly.');
    const oos = this.outOfService();
    if (oos) throw oos;
    if (!this.ready) throw new CabinetError('LINK_OFFLINE', '柜子正在自检，请稍候。The cabinet is checking itself; please wait.');
  }

  private onDoor(no: number, open: boolean, source: 'event' | 'resync', ageMs: number | null): void {
    try {
      const fact = { compartmentNo: no, door: open ? 'open' : 'closed', source: source === 'event' ? 'event' : 'poll', ageMs } as const;
      const outcome = recordDoorFact(this.d.store.ctx, fact, this.doors.policy);
      // Before start-up reconciliation a first reading of a door is left to it (it knows which flows were cut off),
      // but a door the board sees open now, with no unlock to explain it, is tamper whatever the controller is doing.
      if (outcome.unexplainedOpen && (this.ready || source === 'event')) {
        this.d.driver.countTamper();
        this.d.bus.alarm('tamper', `格口 ${no} 的门在没有开锁指令时被打开。Door ${no} opened without an unlock.`, { compartment: no });
      }
      const c = getCompartment(this.d.store.ctx, no);
      if (c) this.d.bus.emit('compartment', { no, state: c.state, door: c.door, requestId: c.contents?.requestId ?? null });
    } catch (e) {
      this.d.storage?.report(e);
      this.log.error({ err: e instanceof Error ? e.message : String(e), compartment: no }, 'could not record a door change');
    }
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
      throw new CabinetError(
        'TRANSITION_NOT_ALLOWED',
        `申请 ${req.number} 当前为“${req.state}”，不能装柜。Request ${req.number} is "${req.state}", not ready to load.`,
        { requestId },
      );
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
        const instead = faulty.length ? `${faulty.join('、')} 号柜门打不开，已标记故障，改用 ${c.no} 号柜。` : '';
        const insteadEn = faulty.length ? `Door ${faulty.join(', ')} would not open (marked as a fault); using ${c.no} instead. ` : '';
        return this.openedAnswer(c.no, done, `${instead}请放入文件并关好柜门。`, `${insteadEn}Put the document in and close the door.`);
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
      messageZh: `${faulty.join('、')} 号柜门没有打开，已标记故障。请联系维修。`,
      messageEn: `Door ${faulty.join(', ')} did not open and is marked as a fault. Please call for repair.`,
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
    this.doors.setCompartment(no, 'free', actor, { clearContents: true, note: 'closed with no document inside' });
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
    return this.publish(source, 'qr', await this.kioskGuard(() => this.scanned(text, deviceId)));
  }

  /** The resident typed the 8-digit pickup code and the last 4 digits of the phone. */
  async pickupByCode(code: string, phoneLast4: string, deviceId: string): Promise<KioskAnswer> {
    if (this.outOfService()) return this.publish('kiosk', 'code', this.kiosk('OUT_OF_SERVICE'));
    if (!this.ready) return this.publish('kiosk', 'code', this.kiosk('NOT_READY'));
    const answer = await this.kioskGuard(async () => {
      const verified = verifyCode(this.d.store.ctx, { code, phoneLast4, deviceId });
      return !verified.ok
        ? this.refused(verified)
        : verified.purpose === 'pickup'
          ? await this.pickups([verified.requestId], deviceId)
          : await this.deposit(verified.requestId, deviceId);
    });
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
  private closed(no: number, action: 'pickup' | 'dropoff', outcome: DoorClosedCode, messageZh: string, messageEn: string): void {
    this.d.bus.emit('scan', { source: 'kiosk', kind: 'qr', outcome, action, compartments: [no], messageZh, messageEn });
  }

  private publish(source: 'scanner' | 'kiosk', kind: 'qr' | 'code', a: KioskAnswer): KioskAnswer {
    this.d.bus.emit('scan', {
      source,
      kind,
      outcome: a.code,
      action: a.action,
      compartments: a.compartments,
      messageZh: a.messageZh,
      messageEn: a.messageEn,
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
    const list = opened.join('、');
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
      messageZh: `${list} 号柜门已打开，请取走文件并关好柜门。`,
      messageEn: `Door ${opened.join(', ')} is open. Take your document and close the door.`,
    };
  }

  /** After a pickup door closed: empty → collected (credentials revoked); still inside → stays, staff alerted. */
  async finishPickup(no: number, requestId: number, actor: Actor): Promise<Final> {
    const item = await this.doors.closedWithItem(no, false);
    if (!item) {
      this.transition(requestId, 'collect', actor);
      crashPoint('pickup.collected');
      this.doors.setCompartment(no, 'free', actor, { clearContents: true });
      this.closed(no, 'pickup', 'COLLECTED', `${no} 号柜门已关好。`, `Door ${no} is closed.`);
      return 'collected';
    }
    this.doors.setCompartment(no, 'occupied', actor, { doorOutcome: 'item_not_taken', note: 'closed with the document still inside' });
    this.closed(
      no,
      'pickup',
      'ITEM_NOT_TAKEN',
      `${no} 号柜的文件还在柜内，没有取走。请重新扫码或输入取件码再取。`,
      `Your document is still in compartment ${no}. Scan or type your code again to take it.`,
    );
    this.d.bus.alarm('item_not_taken', `格口 ${no} 关门时文件仍在柜内。Door ${no} closed with the document still inside.`, {
      compartment: no,
      requestId,
    });
    return 'item_not_taken';
  }

  /** A resident drops off materials for a request awaiting them. */
  private async deposit(requestId: number, deviceId: string): Promise<KioskAnswer> {
    const actor = kioskActor(deviceId);
    const c = reserveCompartment(this.d.store.ctx, { requestId, direction: 'for_staff' }, actor);
    if (!c) return this.kiosk('CABINET_FULL');
    this.transition(requestId, 'start_deposit', actor);
    const outcome = await this.doors.open({ compartmentNo: c.no, requestId, actor, reason: 'deposit' });
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
      messageZh: `${c.no} 号柜门已打开，请放入材料并关好柜门。`,
      messageEn: `Door ${c.no} is open. Put your materials in and close the door.`,
    };
  }

  async finishDeposit(no: number, requestId: number, actor: Actor): Promise<Final> {
    const item = await this.doors.closedWithItem(no, true);
    if (item) {
      this.transition(requestId, 'deposit', actor);
      this.doors.setCompartment(no, 'occupied', actor);
      const r = requireRequest(this.d.store.ctx, requestId);
      this.d.bus.alarm(
        'materials_deposited',
        `申请 ${r.number} 的材料已放入 ${no} 号柜，请取出。Materials for ${r.number} are in compartment ${no}.`,
        { compartment: no, requestId },
      );
      this.closed(no, 'dropoff', 'DEPOSITED', `${no} 号柜门已关好，材料已放入。`, `Door ${no} is closed with your materials inside.`);
      return 'deposited';
    }
    this.transition(requestId, 'deposit_aborted', actor);
    this.doors.setCompartment(no, 'free', actor, { clearContents: true, doorOutcome: 'nothing_deposited', note: 'closed with nothing inside' });
    this.closed(
      no,
      'dropoff',
      'NOTHING_DEPOSITED',
      `${no} 号柜门已关上，但柜内没有材料。请重新扫码再放入。`,
      `Door ${no} closed with nothing inside. Scan your drop-off code again to put the materials in.`,
    );
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
      throw new CabinetError(
        'TRANSITION_NOT_ALLOWED',
        `申请 ${req.number} 当前为“${req.state}”，柜中没有可取回的物品。Request ${req.number} is "${req.state}": nothing to retrieve.`,
        { requestId },
      );
    }
    if (event === 'admin_retrieve' && getStaff(this.d.store.ctx, staffId)?.role !== 'admin') {
      throw new CabinetError(
        'ACTOR_NOT_ALLOWED',
        '只有管理员可以取回未逾期的文件。Only an administrator may retrieve a document before it is overdue.',
        { requestId },
      );
    }
    const c = this.compartmentOf(requestId);
    // A fault compartment still holding the request may be tried again (after a repair, say).
    if (!c || (c.state !== 'occupied' && c.state !== 'fault') || c.contents?.requestId !== requestId) {
      throw new CabinetError('COMPARTMENT_STATE', `申请 ${req.number} 没有在柜中。Request ${req.number} is not in a compartment.`, { requestId });
    }
    const reason: UnlockReason = materials ? 'retrieve_materials' : 'retrieve';
    const outcome = await this.doors.open({ compartmentNo: c.no, requestId, actor, reason });
    if (!outcome.opened) {
      // The item is still inside: the compartment becomes a fault that keeps it on record.
      return this.notOpened(c.no, outcome, actor, () => undefined, { fault: true, clearContents: false });
    }
    const done = this.background('retrieve', [c.no], this.finishRetrieve(c.no, requestId, actor, event), 'failed');
    return this.openedAnswer(c.no, done, '请取出物品并关好柜门。', 'Take the item out and close the door.');
  }

  async finishRetrieve(no: number, requestId: number, actor: Actor, event: 'retrieve' | 'admin_retrieve' | 'retrieve_materials'): Promise<Final> {
    const item = await this.doors.closedWithItem(no, false);
    if (!item) {
      this.transition(requestId, event, actor);
      this.doors.setCompartment(no, 'free', actor, { clearContents: true });
      if (event !== 'retrieve_materials') return 'retrieved';
      this.d.bus.resolve('materials_deposited', requestId, actor, '材料已取出 / materials taken out');
      return 'materials_retrieved';
    }
    this.doors.setCompartment(no, 'occupied', actor, { note: 'closed with the item still inside' });
    return 'item_still_inside';
  }

  /** An administrator opens any compartment, with a mandatory reason; the contents' records are not changed. */
  async forceOpen(staffId: number, no: number, reason: string): Promise<DoorAnswer> {
    this.assertReady();
    const actor = staffActor(staffId);
    if (getStaff(this.d.store.ctx, staffId)?.role !== 'admin') {
      throw new CabinetError('ACTOR_NOT_ALLOWED', '只有管理员可以强制开门。Only an administrator may force a door open.');
    }
    if (!reason.trim())
      throw new CabinetError('REASON_REQUIRED', '强制开门必须填写原因。A reason is required to force a door open.', { field: 'reason' });
    const c = getCompartment(this.d.store.ctx, no);
    if (!c) throw new CabinetError('NOT_FOUND', `没有 ${no} 号柜。There is no compartment ${no}.`, { compartmentNo: no });
    if (c.state === 'disabled')
      throw new CabinetError('COMPARTMENT_STATE', `${no} 号柜已停用，请先启用。Compartment ${no} is disabled; enable it first.`, {
        compartmentNo: no,
      });
    if (c.state === 'opening' || c.state === 'open')
      throw new CabinetError('COMPARTMENT_STATE', `${no} 号柜正在使用。Compartment ${no} is in use.`, { compartmentNo: no });
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
      if (outcome.why === 'not_opened')
        this.d.bus.alarm('door_not_opened', `${no} 号柜强制开门后门没有打开。Door ${no} did not open when forced.`, { compartment: no });
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
            faultReason: item ? 'item inside with no record after force-open' : 'recorded item missing after force-open',
          });
          this.d.bus.alarm(
            item ? 'item_left_behind' : 'item_missing',
            `强制开门后 ${no} 号柜的物品与记录不符。After force-open, compartment ${no} does not match the records.`,
            { compartment: no },
          );
        }
        return 'closed';
      }),
      'failed',
    );
    return this.openedAnswer(no, done, '柜门已打开。', 'The door is open.');
  }

  setDisabled(staffId: number, no: number, disabled: boolean, reason: string): Compartment {
    const actor = staffActor(staffId);
    const c = getCompartment(this.d.store.ctx, no);
    if (!c) throw new CabinetError('NOT_FOUND', `没有 ${no} 号柜。There is no compartment ${no}.`, { compartmentNo: no });
    if (disabled && c.state !== 'free' && c.state !== 'fault') {
      throw new CabinetError(
        'COMPARTMENT_STATE',
        `${no} 号柜不是空的（${c.state}），不能停用。Compartment ${no} is ${c.state}; only an empty one can be disabled.`,
        { compartmentNo: no },
      );
    }
    if (disabled && c.contents) {
      throw new CabinetError('COMPARTMENT_STATE', `${no} 号柜内有物品记录，请先取回。Compartment ${no} still holds a request; retrieve it first.`, {
        compartmentNo: no,
      });
    }
    if (!disabled && c.state !== 'disabled' && c.state !== 'fault' && c.state !== 'free') {
      throw new CabinetError(
        'COMPARTMENT_STATE',
        `${no} 号柜正在使用（${c.state}）。Compartment ${no} is ${c.state}; only a disabled or faulty one can be put back into service.`,
        { compartmentNo: no },
      );
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
    this.doors.setCompartment(no, 'fault', actor, { faultReason: 'door did not open after unlock', clearContents });
    this.d.bus.alarm('door_not_opened', `${no} 号柜开锁后门没有打开，已标记故障。Door ${no} did not open; marked as a fault.`, { compartment: no });
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
      messageZh: notSent ? `开锁指令未能发送（${outcome.error.code}），请稍后再试。` : `${no} 号柜门没有打开，已标记故障，请换一个柜口。`,
      messageEn: notSent
        ? `The unlock could not be sent (${outcome.error.code}); try again shortly.`
        : `Door ${no} did not open and is marked as a fault; use another compartment.`,
    };
  }

  private openedAnswer(no: number, done: Promise<Final>, zh: string, en: string): DoorAnswer {
    return { opened: true, compartment: no, code: 'OPENED', done, messageZh: `${no} 号柜门已打开，${zh}`, messageEn: `Door ${no} is open. ${en}` };
  }

  private full(): DoorAnswer {
    return {
      opened: false,
      compartment: null,
      code: 'CABINET_FULL',
      done: resolved<Final>('not_sent'),
      messageZh: '柜子已满，暂时没有空闲柜口。请先取回逾期文件。',
      messageEn: 'The cabinet is full: no free compartment. Retrieve overdue documents first.',
    };
  }

  private refused(r: Exclude<VerifyResult, { ok: true }>): KioskAnswer {
    if (r.reason === 'locked') return { ...this.kiosk('LOCKED'), retryAfterMs: r.retryAfterMs };
    if (r.reason === 'invalid' && r.triesLeft !== undefined) return { ...this.kiosk('INVALID'), triesLeft: r.triesLeft };
    return this.kiosk(r.reason === 'revoked' ? 'USED' : 'INVALID');
  }

  private kiosk(code: Exclude<KioskCode, 'OPENED'>): KioskAnswer {
    const words: Record<Exclude<KioskCode, 'OPENED'>, [string, string]> = {
      INVALID: [
        '取件码或手机号后四位不正确，请核对后重试。',
        'The code or the last 4 digits of the phone are not right. Please check and try again.',
      ],
      USED: ['这个二维码已经用过或已失效。', 'This QR code has already been used or is no longer valid.'],
      LOCKED: ['尝试次数过多，请稍后再试，或联系工作人员。', 'Too many tries. Please wait a little, or ask the staff.'],
      NOTHING_WAITING: ['您目前没有待取的文件。', 'Nothing is waiting for you right now.'],
      CABINET_FULL: ['柜子已满，请联系工作人员。', 'The cabinet is full. Please ask the staff.'],
      NOT_OPENED: ['柜门没有打开，请联系工作人员。', 'The door did not open. Please ask the staff.'],
      OUT_OF_ORDER: [
        '存放您文件的柜门暂时故障，文件仍在柜中。请联系工作人员。',
        'The door of the compartment holding your document is out of order; the document is safe inside. Please ask the staff.',
      ],
      NOT_READY: ['柜子正在自检，请稍候。', 'The cabinet is checking itself; please wait.'],
      OUT_OF_SERVICE:
        this.d.storage && !this.d.storage.ok
          ? [say(storageSaid(this.d.storage.current.problem!)), say(storageSaid(this.d.storage.current.problem!), 'en')]
          : ['柜子暂停服务，请联系工作人员。', 'The cabinet is out of service. Please ask the staff.'],
      UNKNOWN_SCAN: ['无法识别这个二维码，请扫描取件二维码。', 'This QR code is not one of ours. Please scan your pickup QR code.'],
    };
    const [messageZh, messageEn] = words[code];
    return { ok: false, code, action: null, messageZh, messageEn, compartments: [], done: resolved<Final[]>([]) };
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
