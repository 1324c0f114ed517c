/**
 * What the staff console reads from the controller, as the server sends it. Each shape is the answer schema of a
 * route (controller/http/staff-routes.ts, door-routes.ts, auth.ts) or an event of /ws/staff (controller/http/live.ts,
 * controller/events.ts); keep them in step when those change. Types only: this module exports no values.
 */
export {};

/**
 * @typedef {'submitted' | 'awaiting_materials' | 'depositing' | 'materials_deposited' | 'materials_retrieved' | 'accepted'
 *   | 'rejected' | 'ready' | 'loading' | 'loaded' | 'overdue' | 'collected' | 'retrieved' | 'cancelled'} RequestState
 *   controller/domain/request-states.ts REQUEST_STATES
 */

/**
 * @typedef {'tamper' | 'door_not_opened' | 'door_left_open' | 'item_not_taken' | 'item_left_behind' | 'item_missing'
 *   | 'materials_deposited' | 'compartment_fault' | 'link_offline' | 'board_rebooted' | 'reconcile'
 *   | 'storage' | 'flow_failed'} AlarmKind
 *   controller/domain/types.ts ALARM_KINDS
 */

/**
 * The parameters of a key of the word catalogue (../shared/words.js): a list of numbers is a list of compartments.
 * @typedef {Record<string, string | number | number[]>} WordParams
 */

/** @typedef {'free' | 'reserved' | 'occupied' | 'opening' | 'open' | 'fault' | 'disabled'} CompartmentState */
/** @typedef {'open' | 'closed' | 'unknown'} DoorState */

/**
 * POST /api/staff/login `staff`, GET /api/staff/me `staff`.
 * @typedef {{ id: number, login: string, name: string, role: 'staff' | 'admin', mustChangePin: boolean }} StaffMember
 */

/** @typedef {{ token: string, staff: StaffMember, expiresAt: string, idleExpiresAt: string }} LoginAnswer POST /api/staff/login */
/** @typedef {{ staff: StaffMember, session: { expiresAt: string, idleExpiresAt: string } }} MeAnswer GET /api/staff/me */

/**
 * A row of GET /api/staff/requests.
 * @typedef {{
 *   id: number, number: string, serviceCode: string, serviceNameZh: string, state: RequestState,
 *   stateText: { zh: string, en: string }, residentId: number, residentName: string, mobileMasked: string,
 *   idNumberMasked: string | null, compartmentNo: number | null, createdAt: string, stateChangedAt: string,
 *   actions: string[],
 *   identityCheck: { residentId: number, residentName: string, mobileMasked: string, idNumberMasked: string | null } | null,
 * }} RequestItem
 */

/** @typedef {{ requests: RequestItem[], nextBefore: number | null }} RequestList GET /api/staff/requests (newest first; `nextBefore` pages on) */

/**
 * @typedef {{
 *   id: number, at: string, actorKind: string, actorId: string | null, actorName: string | null, action: string,
 *   compartmentNo: number | null, requestId: number | null, detail: Record<string, unknown>,
 * }} AuditEntry
 */

/**
 * @typedef {{
 *   id: number, requestId: number | null,
 *   kind: 'ready_with_code' | 'overdue_reminder' | 'rejected' | 'materials_received' | 'item_retrieved',
 *   status: 'pending' | 'sent' | 'failed' | 'cancelled', attempts: number, nextAttemptAt: string,
 *   lastError: string | null, createdAt: string, sentAt: string | null,
 * }} RequestNotification
 */

/**
 * GET /api/staff/requests/:id
 * @typedef {RequestItem & {
 *   note: string | null, reason: string | null, loadedAt: string | null, closedAt: string | null,
 *   resident: {
 *     id: number, name: string, mobileMasked: string, idNumberMasked: string | null,
 *     address: { building: string, unit: string, room: string } | null,
 *   },
 *   audit: AuditEntry[], notifications: RequestNotification[],
 * }} RequestDetail
 */

/** @typedef {{ request: RequestItem, from: string }} TransitionAnswer POST /api/staff/requests/:id/{accept,reject,…} */

/**
 * POST /api/staff/requests/:id/{load,retrieve}, POST /api/staff/compartments/:no/force-open
 * @typedef {{
 *   opened: boolean, compartment: number | null, code: 'OPENED' | 'CABINET_FULL' | 'NOT_OPENED' | 'NOT_SENT',
 *   key: string, params?: WordParams, message: string,
 * }} DoorAnswer
 */

/**
 * @typedef {{ requestId: number, requestNumber: string, requestState: string, direction: 'for_resident' | 'for_staff' }}
 *   CompartmentContents
 */

/**
 * A row of GET /api/staff/compartments.
 * @typedef {{
 *   no: number, board: number, channel: number, state: CompartmentState, door: DoorState, doorAt: string | null,
 *   faultReason: string | null, faultKey: string | null, contents: CompartmentContents | null,
 *   live: { door: string, item: string, fault: string } | null,
 * }} Compartment
 */

/** @typedef {{ compartments: Compartment[] }} CompartmentList GET /api/staff/compartments */

/**
 * GET /api/staff/alarms rows, POST /api/staff/alarms/:id/ack, and the `alarm` / `alarm-ack` events (controller/events.ts Alarm).
 * @typedef {{
 *   id: number, kind: AlarmKind, at: string, lastAt: string, count: number,
 *   key: string | null, params?: WordParams, message: string,
 *   compartment?: number, requestId?: number,
 *   acknowledged: {
 *     at: string, by: { id: number, name: string }, note: string | null, noteKey: string | null,
 *     noteParams?: WordParams,
 *   } | null,
 * }} Alarm
 */

/** @typedef {{ alarms: Alarm[], openCount: number }} AlarmList GET /api/staff/alarms */
/** @typedef {{ alarm: Alarm }} AlarmAckAnswer POST /api/staff/alarms/:id/ack */

/**
 * What /ws/staff sends: a snapshot on connect, then one message per bus event (controller/http/live.ts).
 * @typedef {{
 *   type: 'snapshot', link: { state: string },
 *   compartments: { no: number, state: string, door: string, requestId: number | null }[],
 *   alarms: Alarm[],
 *   requests: { counts: Record<string, number>, open: { id: number, number: string, state: string, serviceCode: string }[] },
 * }} LiveSnapshot
 * @typedef {{ type: 'compartment', no: number, state: string, door: string, requestId: number | null }} LiveCompartment
 * @typedef {{ type: 'request', id: number, number: string, state: string, from: string | null }} LiveRequest
 * @typedef {{
 *   type: 'scan', source: 'scanner' | 'kiosk', kind: 'qr' | 'code', outcome: string, action?: 'pickup' | 'dropoff' | null,
 *   retryAfterMs?: number, compartments: number[], key: string, params?: WordParams,
 * }} LiveScan
 * @typedef {{ type: 'alarm' | 'alarm-ack' } & Alarm} LiveAlarm
 * @typedef {{ type: 'link', state: string, reason?: string }} LiveLink
 * @typedef {LiveSnapshot | LiveCompartment | LiveRequest | LiveScan | LiveAlarm | LiveLink} LiveMessage
 */

// ---- the office (controller/http/report-routes.ts) and the admin screens (staff-routes.ts) ----

/**
 * A row of GET /api/staff/history/requests.
 * @typedef {{
 *   id: number, number: string, serviceCode: string, serviceNameZh: string, serviceNameEn: string, state: RequestState,
 *   stateText: { zh: string, en: string }, residentName: string, mobileMasked: string, idNumberMasked: string | null,
 *   compartmentNo: number | null, createdAt: string, stateChangedAt: string, loadedAt: string | null, closedAt: string | null,
 * }} HistoryItem
 */
/** @typedef {{ requests: HistoryItem[], next: string | null }} HistoryPage GET /api/staff/history/requests */

/**
 * A row of GET /api/staff/history/audit.
 * @typedef {{
 *   id: number, at: string, actorKind: 'staff' | 'resident' | 'system' | 'kiosk', actorId: string | null,
 *   actorName: string | null, action: string, compartmentNo: number | null, requestId: number | null,
 *   requestNumber: string | null, detail: Record<string, unknown>,
 * }} AuditRow
 */
/** @typedef {{ entries: AuditRow[], next: string | null }} AuditPage GET /api/staff/history/audit */

/**
 * GET /api/staff/statistics
 * @typedef {{
 *   from: string, to: string,
 *   perDay: { day: string, count: number }[],
 *   perService: { code: string, nameZh: string, nameEn: string, count: number }[],
 *   waitToCollect: { count: number, medianHours: number | null, p90Hours: number | null, buckets: { upToHours: number | null, count: number }[] },
 *   overdue: { inRange: number, perDay: { day: string, count: number }[], now: number },
 *   doorFaults: { compartment: number, count: number }[],
 *   perMonth: { month: string, collected: number, retrieved: number, rejected: number, cancelled: number, total: number }[],
 * }} Statistics
 */

/** @typedef {{ code: 'PUBLIC_URL_UNSET' | 'PUBLIC_URL_LOOPBACK', zh: string, en: string }} SetupWarning */
/** @typedef {{ publicUrl: string, warnings: SetupWarning[] }} SetupAnswer GET /api/staff/setup */

/**
 * GET /api/staff/accounts rows
 * @typedef {{ id: number, login: string, name: string, role: 'staff' | 'admin', mustChangePin: boolean, disabled: boolean, createdAt: string }} Account
 */
/** @typedef {{ accounts: Account[] }} AccountList GET /api/staff/accounts */
/** @typedef {{ account: Account, pin: string }} AccountPin POST /api/staff/accounts, POST /api/staff/accounts/:id/reset-pin */
/** @typedef {{ account: Account }} AccountAnswer POST /api/staff/accounts/:id/{disable,enable} */

/**
 * GET /api/staff/services rows, PUT /api/staff/services/:code `service`
 * @typedef {{
 *   code: string, nameZh: string, nameEn: string, needs: { idNumber: boolean, address: boolean }, needsMaterials: boolean,
 *   enabled: boolean, sortOrder: number,
 * }} Service
 */
/** @typedef {{ services: Service[] }} ServiceList GET /api/staff/services */
