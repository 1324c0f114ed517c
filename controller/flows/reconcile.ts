/**
 * Start-up reconciliation: before the cabinet accepts any door action, read every door and item
 * sensor from the boards and settle the database against them. A power cut or a crash can stop a
 * flow anywhere; the committed rows (compartment state, unlock intents, door facts, request state)
 * say how far it got, and the board says what is physically true now. Every finding is written to
 * the audit log and raised to the staff console.
 *
 * Settling, per compartment:
 *   opening/open   a door flow was cut off. If its door never opened: put things back as they were
 *                  (load/drop-off aborted, a pickup stays waiting with its code still valid). If it
 *                  opened: finish the flow from the door and item as they are now — or, when the
 *                  door is still open, when it closes. An opening nobody recorded as it happened is
 *                  recorded now: "opened unseen" when the record or the item sensor proves it, "may have
 *                  opened" when the unlock went out and the door is shut with nothing to tell (a door that
 *                  opens and shuts while the controller is stopped leaves no trace in protocol version 1). A
 *                  version 2 board whose kept count was compared in the same run shows the door did not open:
 *                  then it is a door nobody pulled (audit row, put back, no alarm).
 *   reserved       nothing was unlocked yet: release it (an interrupted load goes back to ready).
 *   occupied       the item sensor should say present; if not, alarm.
 *   free           the item sensor should say absent; if not, alarm.
 *   any            a door found open where none should be: alarm.
 *
 * Before these, a version 2 board's door-opening counts are compared with the ones kept before the stop (when the
 * board's run did not change): an opening made while the controller was stopped and seen by no DOOR event is recorded
 * as found by count (the unlock policy attributes it, write order first; else tamper), so the settling above sees it.
 *
 * An unlock the board acknowledged whose door was never seen open is a door nobody pulled — no fault: an audit
 * row, no alarm (domain/unlock-policy.ts, unopenedUnlock). It is a finding only when the facts disagree: the door
 * is open now, or the contents the board reports are not the recorded ones (the checks above).
 */
import { actorFromRow, SYSTEM_ACTOR, type Actor } from '../domain/types.js';
import type { RequestState } from '../domain/request-states.js';
import { cutOffDoor, unopenedUnlock } from '../domain/unlock-policy.js';
import type { AlarmKind } from '../events.js';
import {
  appendAudit,
  expireStaleIntents,
  getCompartment,
  lastIntentId,
  latestIntentOf,
  listCompartments,
  markIntentFailed,
  markIntentsReviewed,
  openingOnRecord,
  recordDoorFact,
  recordUnseenOpening,
  requireRequest,
  transitionRequest,
  unresolvedIntents,
  type Compartment,
  type UnlockIntent,
} from '../store/index.js';
import { said, type Said } from '../words/keys.js';
import type { CabinetFlows, FlowDeps } from './cabinet.js';

export interface Finding {
  kind: AlarmKind;
  compartment?: number;
  requestId?: number;
  /** For the audit log: what was found, in the developers' words. */
  message: string;
  /** What staff are told (the alarm). */
  said: Said;
}

/** Wait until the boards answered and every compartment's door and item are known. */
async function boardsRead(deps: FlowDeps, timeoutMs: number): Promise<boolean> {
  const known = () => deps.driver.snapshot().compartments.every((c) => c.door !== 'unknown' && c.item !== 'unknown');
  const deadline = performance.now() + timeoutMs;
  while (!known()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Run once the link is up. Resolves with the findings after marking the flows ready; rejects
 * (and leaves door actions refused) when the boards could not be read in time.
 */
export async function reconcile(flows: CabinetFlows, deps: FlowDeps, timeoutMs = 15_000): Promise<Finding[]> {
  if (!(await boardsRead(deps, timeoutMs))) {
    throw new Error('the lock boards could not be read: door actions stay refused until they answer');
  }
  // A version 2 board's openings while the controller was stopped (its counts against the kept baseline, PROTOCOL.md
  // §21.3) are confirmed by a second STATUS and recorded before anything is settled: a cut-off flow whose door opened
  // so finds its opening on record (attributed by write order to the unlock sent before the stop) and is finished.
  await deps.driver.confirmOpenings();
  const { store } = deps;
  const ctx = store.ctx;
  const findings: Finding[] = [];
  const note = (f: Finding) => {
    findings.push(f);
    appendAudit(store.db, ctx.now(), {
      actor: SYSTEM_ACTOR,
      action: `reconcile.${f.kind}`,
      compartmentNo: f.compartment ?? null,
      requestId: f.requestId ?? null,
      // the developers' words for the log, and what staff are told as a key of the word catalogue (the screens say it)
      detail: { message: f.message, noteKey: f.said.key, ...(f.said.params ? { noteParams: { ...f.said.params } } : {}) },
    });
  };

  // Door changes seen while the store could not write come first: what follows reads and extends the door record.
  flows.writeLateDoorChanges();
  expireStaleIntents(ctx);
  const newestIntent = lastIntentId(ctx);
  const board0 = deps.driver.snapshot().compartments;
  const stateOf = new Map(listCompartments(ctx).map((c) => [c.no, c.state]));
  for (const i of unresolvedIntents(ctx)) {
    if (flows.doors.live.has(i.compartmentNo)) continue;
    if (i.status === 'acked') {
      // Acknowledged, never seen open: a door nobody pulled is no fault; only facts that disagree are a finding.
      const state = stateOf.get(i.compartmentNo);
      const meaning = unopenedUnlock({
        operationUnderWay: state === 'opening' || state === 'open',
        doorOpenNow: board0[i.compartmentNo - 1]?.door === 'open',
      });
      if (meaning === 'cut_off') continue;
      if (meaning === 'stayed_shut') {
        // Unless the item sensor says otherwise: an item gone from an occupied compartment, or one inside a free one,
        // after the last unlock of that door, is an opening nobody saw (its DOOR events lost) — recorded as such, and
        // the compartment's own check below raises the alarm about the item.
        const itemNow = deps.config.itemSensors === false ? 'unknown' : (board0[i.compartmentNo - 1]?.item ?? 'unknown');
        const itemMoved = (state === 'occupied' && itemNow === 'absent') || ((state === 'free' || state === 'reserved') && itemNow === 'present');
        if (itemMoved && latestIntentOf(ctx, i.compartmentNo)?.id === i.id) {
          recordUnseenOpening(ctx, { intent: i, action: 'door.opened_unseen', evidence: 'item' });
          continue;
        }
        appendAudit(store.db, ctx.now(), {
          actor: SYSTEM_ACTOR,
          action: 'reconcile.unlock_not_opened',
          compartmentNo: i.compartmentNo,
          requestId: i.requestId,
          detail: { intentId: i.id, reason: i.reason },
        });
        continue;
      }
    }
    // An unlock from before the restart can never be sent now: the process that would send it is gone.
    if (i.status === 'pending' || i.status === 'sent') markIntentFailed(ctx, i.id, 'the controller restarted before this unlock finished');
    note({
      kind: 'reconcile',
      compartment: i.compartmentNo,
      ...(i.requestId !== null ? { requestId: i.requestId } : {}),
      message: `unlock #${i.id} (${i.reason}) was ${i.status} with no door opening recorded`,
      said: said('alarm.startup_unlock_unfinished', { no: i.compartmentNo }),
    });
  }

  // the acknowledged ones looked at now are not listed again at the next start-up
  markIntentsReviewed(ctx, newestIntent);

  const background: Promise<unknown>[] = [];
  for (const { no } of listCompartments(ctx)) {
    // Read at this compartment's turn, not once before the loop: finishing an earlier compartment waits for the board,
    // and a door shut meanwhile (its change recorded as it came) must not be taken for a new opening at start-up.
    const c = getCompartment(ctx, no);
    const b = deps.driver.snapshot().compartments[no - 1];
    if (!c || !b) continue;
    // Run again after the store recovered: a flow still running in this process finishes its own compartment.
    if (flows.doors.live.has(c.no)) continue;
    const doorOpen = b.door === 'open';
    // Without occupancy sensors (vendor boards) nothing is known about items: no finding rests on them.
    const item: boolean | null = deps.config.itemSensors === false ? null : b.item === 'present';
    const before = c.door;
    recordDoorFact(
      ctx,
      { compartmentNo: c.no, door: doorOpen ? 'open' : 'closed', source: 'startup', inProcess: flows.doors.ownUnlocks(undefined) },
      flows.doors.policy,
    );

    switch (c.state) {
      case 'opening':
      case 'open': {
        const intent = latestIntent(deps, c);
        // The door opened if it is open, was seen open, or the item sensor proves it: a load or drop-off
        // left something in an empty compartment, or a pickup or retrieval took it out.
        const itemMoved =
          intent !== null &&
          (((intent.reason === 'load' || intent.reason === 'deposit') &&
            item === true &&
            c.contents !== null &&
            c.state === 'opening' &&
            !wasHolding(deps, c)) ||
            ((intent.reason === 'pickup' || intent.reason === 'retrieve' || intent.reason === 'retrieve_materials') && item === false));
        // (an opening on record after the intent, in the order the rows were written: a wall clock that moved between
        // an earlier opening and this unlock must not lend it that opening)
        // Its unlock went out (or may have: claimed for sending, with a sequence number): the door may have opened and
        // shut again while nothing listened, which version 1 of the protocol cannot show. Unless something proves it
        // did, that is what is recorded — never "it did not open" — but for a version 2 board whose count since the stop
        // is known (its kept baseline compared in the same run of the board): an opening would be on record by now.
        const door = cutOffDoor({
          openingProven: doorOpen || c.state === 'open' || itemMoved || (intent !== null && openingOnRecord(ctx, intent)),
          unlockTransmitted: intent !== null && intent.seq !== null,
          countedSinceStop: deps.driver.countedSinceStop(c.no),
        });
        const opened = door === 'opened';
        const maybe = door === 'may_have_opened';
        if (intent !== null && door === 'shut_by_count') {
          // a door nobody pulled, as an acknowledged unlock whose operation was over: an audit row, no alarm
          appendAudit(store.db, ctx.now(), {
            actor: SYSTEM_ACTOR,
            action: 'reconcile.unlock_not_opened',
            compartmentNo: c.no,
            requestId: intent.requestId,
            detail: { intentId: intent.id, reason: intent.reason, evidence: 'door_count' },
          });
          restoreUnopened(flows, deps, c, actorFromRow(intent.actorKind, intent.actorId), intent.reason, item, note);
          break;
        }
        // An opening nobody recorded as it happened is recorded now: proven (the compartment's record, the item
        // sensor) or possible; nothing when a door fact or an earlier record of it is there.
        if (intent !== null && (opened || maybe)) {
          recordUnseenOpening(ctx, {
            intent,
            action: opened ? 'door.opened_unseen' : 'door.may_have_opened',
            evidence: opened
              ? c.state === 'open'
                ? 'compartment_open'
                : itemMoved
                  ? 'item'
                  : 'door'
              : intent.status === 'acked'
                ? 'unlock_acknowledged'
                : 'unlock_sent_unanswered',
          });
        }
        const actor = intent ? actorFromRow(intent.actorKind, intent.actorId) : SYSTEM_ACTOR;
        note({
          kind: 'reconcile',
          compartment: c.no,
          ...(c.contents ? { requestId: c.contents.requestId } : {}),
          message: `a ${intent?.reason ?? 'door'} operation was cut off (door ${opened ? 'had opened' : maybe ? 'may have opened unseen' : 'never opened'}, now ${doorOpen ? 'open' : 'closed'}, item ${item === null ? 'not sensed' : item ? 'inside' : 'absent'})`,
          said: said(opened ? 'alarm.startup_cut_off_opened' : maybe ? 'alarm.startup_cut_off_may_have_opened' : 'alarm.startup_cut_off_unopened', {
            no: c.no,
          }),
        });
        if (!opened) {
          restoreUnopened(flows, deps, c, actor, intent?.reason ?? null, item, note, maybe);
        } else {
          if (c.state === 'opening') flows.doors.setCompartment(c.no, 'open', actor);
          // Finish from the door as it is: now when it is closed, in the background (when it closes) otherwise.
          const finishing = finishFlow(flows, deps, c, actor, intent?.reason ?? null, note);
          // caught like every background flow: logged, alarmed, rows left for the next reconciliation
          if (doorOpen) background.push(flows.background('reconcile', [c.no], finishing, undefined));
          else await finishing;
        }
        break;
      }
      case 'reserved': {
        const req = c.contents ? requireRequest(ctx, c.contents.requestId) : null;
        if (req?.state === 'loading') transitionRequest(ctx, { requestId: req.id, event: 'load_aborted', actor: SYSTEM_ACTOR });
        if (req?.state === 'depositing') transitionRequest(ctx, { requestId: req.id, event: 'deposit_aborted', actor: SYSTEM_ACTOR });
        flows.doors.setCompartment(c.no, 'free', SYSTEM_ACTOR, { clearContents: true, said: said('note.startup_released') });
        note({
          kind: 'reconcile',
          compartment: c.no,
          ...(req ? { requestId: req.id } : {}),
          message: 'a reservation with no unlock was released',
          said: said('alarm.startup_reservation_released', { no: c.no }),
        });
        if (item === true)
          note({
            kind: 'item_left_behind',
            compartment: c.no,
            message: 'an item is inside a compartment recorded as empty',
            said: said('alarm.startup_item_left_behind', { no: c.no }),
          });
        break;
      }
      case 'occupied':
        if (item === false)
          note({
            kind: 'item_missing',
            compartment: c.no,
            ...(c.contents ? { requestId: c.contents.requestId } : {}),
            message: 'the recorded item is not detected inside',
            said: said('alarm.startup_item_missing', { no: c.no }),
          });
        break;
      case 'free':
        if (item === true)
          note({
            kind: 'item_left_behind',
            compartment: c.no,
            message: 'an item is inside a compartment recorded as empty',
            said: said('alarm.startup_item_left_behind', { no: c.no }),
          });
        break;
      default:
        break;
    }
    if (doorOpen && c.state !== 'open' && c.state !== 'opening' && before !== 'open') {
      note({
        kind: 'tamper',
        compartment: c.no,
        message: 'a door was found open at start-up with no operation under way',
        said: said('alarm.startup_door_open', { no: c.no }),
      });
    }
  }

  for (const f of findings)
    deps.bus.alarm(f.kind, f.said, {
      ...(f.compartment !== undefined ? { compartment: f.compartment } : {}),
      ...(f.requestId !== undefined ? { requestId: f.requestId } : {}),
    });
  flows.markReady();
  void Promise.allSettled(background);
  return findings;
}

/**
 * The unlock of the operation that was cut off in this compartment. The first unlock of every operation is
 * committed together with "opening" (doors.ts), so the latest intent of the compartment is that operation's —
 * provided it is for the request the compartment holds (a force-open of an empty one: for none). An intent of
 * another request is an older, finished operation: then this one never sent an unlock.
 */
function latestIntent(deps: FlowDeps, c: Compartment): UnlockIntent | null {
  const intent = latestIntentOf(deps.store.ctx, c.no);
  if (!intent || intent.requestId !== (c.contents?.requestId ?? null)) return null;
  return intent;
}

/** Whether the request in this compartment is one whose item was already inside before the operation. */
function wasHolding(deps: FlowDeps, c: Compartment): boolean {
  if (!c.contents) return false;
  const state = requireRequest(deps.store.ctx, c.contents.requestId).state;
  return (['loaded', 'overdue', 'materials_deposited'] as RequestState[]).includes(state);
}

/**
 * The door never opened, or nothing shows that it did (`mayHaveOpened`: its unlock went out): undo the start of the
 * flow; what is inside stays as recorded, and the item sensor has the last word.
 */
function restoreUnopened(
  flows: CabinetFlows,
  deps: FlowDeps,
  c: Compartment,
  actor: Actor,
  reason: string | null,
  item: boolean | null,
  note: (f: Finding) => void,
  mayHaveOpened = false,
): void {
  const ctx = deps.store.ctx;
  const what = said(mayHaveOpened ? 'note.startup_cut_off' : 'note.startup_never_opened', { operation: reason ?? 'door' });
  const req = c.contents ? requireRequest(ctx, c.contents.requestId) : null;
  if (req?.state === 'loading') transitionRequest(ctx, { requestId: req.id, event: 'load_aborted', actor: SYSTEM_ACTOR });
  if (req?.state === 'depositing') transitionRequest(ctx, { requestId: req.id, event: 'deposit_aborted', actor: SYSTEM_ACTOR });
  const holds = req !== null && (['loaded', 'overdue', 'materials_deposited'] as RequestState[]).includes(req.state);
  if (holds) flows.doors.setCompartment(c.no, 'occupied', actor, { said: what });
  else flows.doors.setCompartment(c.no, 'free', actor, { clearContents: true, said: what });
  if (holds && item === false)
    note({
      kind: 'item_missing',
      compartment: c.no,
      requestId: req.id,
      message: 'the recorded item is not detected inside',
      said: said('alarm.startup_item_missing', { no: c.no }),
    });
  if (!holds && item === true)
    note({
      kind: 'item_left_behind',
      compartment: c.no,
      message: 'an item is inside a compartment recorded as empty',
      said: said('alarm.startup_item_left_behind', { no: c.no }),
    });
}

/** The door had opened: finish the flow the intent names, from the request's state now. */
async function finishFlow(
  flows: CabinetFlows,
  deps: FlowDeps,
  c: Compartment,
  actor: Actor,
  reason: string | null,
  note: (f: Finding) => void,
): Promise<void> {
  const req = c.contents ? requireRequest(deps.store.ctx, c.contents.requestId) : null;
  const no = c.no;
  if (req && reason === 'load' && req.state === 'loading') return void (await flows.finishLoad(no, req.id, actor));
  if (req && reason === 'deposit' && req.state === 'depositing') return void (await flows.finishDeposit(no, req.id, actor));
  if (req && reason === 'pickup' && (req.state === 'loaded' || req.state === 'overdue')) return void (await flows.finishPickup(no, req.id, actor));
  if (req && reason === 'retrieve' && (req.state === 'loaded' || req.state === 'overdue')) {
    return void (await flows.finishRetrieve(no, req.id, actor, req.state === 'overdue' ? 'retrieve' : 'admin_retrieve'));
  }
  if (req && reason === 'retrieve_materials' && req.state === 'materials_deposited')
    return void (await flows.finishRetrieve(no, req.id, actor, 'retrieve_materials'));
  // The request already moved on (its change committed before the crash), or a force-open: settle by what is inside.
  const holds = req !== null && (['loaded', 'overdue', 'materials_deposited'] as RequestState[]).includes(req.state);
  const item = await flows.doors.closedWithItem(no, holds);
  // A load or drop-off that is still under way for a door opened by another operation is undone first: nothing
  // else would ever move it on.
  if (req?.state === 'loading') transitionRequest(deps.store.ctx, { requestId: req.id, event: 'load_aborted', actor: SYSTEM_ACTOR });
  if (req?.state === 'depositing') transitionRequest(deps.store.ctx, { requestId: req.id, event: 'deposit_aborted', actor: SYSTEM_ACTOR });
  if (holds && item) flows.doors.setCompartment(no, 'occupied', actor);
  else if (!holds && !item) flows.doors.setCompartment(no, 'free', actor, { clearContents: true });
  else {
    flows.doors.setCompartment(no, 'fault', actor, {
      faultReason: item ? 'fault.item_left_after_cut' : 'fault.item_missing_after_cut',
      clearContents: !holds,
    });
    note({
      kind: item ? 'item_left_behind' : 'item_missing',
      compartment: no,
      ...(req ? { requestId: req.id } : {}),
      message: item
        ? 'an item is inside with no record after an interrupted operation'
        : 'the recorded item is missing after an interrupted operation',
      said: said(item ? 'alarm.startup_item_left_after_cut' : 'alarm.startup_item_missing_after_cut', { no }),
    });
  }
}
