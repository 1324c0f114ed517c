/**
 * What the touchscreen reads from the controller, as the server sends it: the kiosk routes' answer schemas
 * (controller/http/door-routes.ts kioskAnswerSchema, public-routes.ts GET /api/kiosk/info) and the /ws/kiosk
 * messages (controller/http/live.ts). Keep them in step when those change. Types only: this module exports no values.
 */
export {};

/**
 * POST /api/kiosk/pickup and POST /api/kiosk/scan
 * @typedef {{
 *   ok: boolean,
 *   code: 'OPENED' | 'INVALID' | 'USED' | 'LOCKED' | 'NOTHING_WAITING' | 'CABINET_FULL' | 'NOT_OPENED' | 'OUT_OF_ORDER'
 *     | 'NOT_READY' | 'OUT_OF_SERVICE' | 'UNKNOWN_SCAN',
 *   action: 'pickup' | 'dropoff' | null, key: string, params?: Record<string, string | number | number[]>, message: string,
 *   compartments: number[],
 *   retryAfterMs?: number, triesLeft?: number,
 * }} KioskAnswer
 */

/**
 * GET /api/kiosk/info
 * @typedef {{ link: string, freeCompartments: number, submitUrl: string, submitQrUrl: string, deviceId: string,
 *   committeePhone: string | null, cabinet: CabinetFace }} KioskInfo
 * @typedef {{ columns: number, rows: number, numbering: 'rows' | 'columns' }} CabinetFace  how the doors sit, as numbered on the cabinet
 */

/**
 * What /ws/kiosk sends: a snapshot on connect, then link, compartment and scan events (no personal data).
 * @typedef {{ type: 'snapshot', link: { state: string }, compartments: { no: number, state: string, door: string }[] }} KioskSnapshot
 * @typedef {{ type: 'link', state: string }} KioskLink
 * @typedef {{ type: 'compartment', no: number, state: string, door: string }} KioskCompartment
 * @typedef {{
 *   type: 'scan', source: 'scanner' | 'kiosk', kind: 'qr' | 'code', outcome: string, action: 'pickup' | 'dropoff' | null,
 *   compartments: number[], key: string, params?: Record<string, string | number | number[]>, retryAfterMs?: number,
 * }} KioskScan
 * @typedef {KioskSnapshot | KioskLink | KioskCompartment | KioskScan} KioskMessage
 */
