/**
 * What the phone pages read from the controller, as the server sends it: the answer schemas of the public routes
 * (controller/http/public-routes.ts). Keep them in step when those change. Types only: this module exports no values.
 */
export {};

/**
 * A row of GET /api/services (serviceSchema).
 * @typedef {{
 *   code: string, nameZh: string, nameEn: string, needs: { idNumber: boolean, address: boolean }, needsMaterials: boolean,
 * }} Service
 */

/** @typedef {{ services: Service[] }} ServiceList GET /api/services */

/**
 * POST /api/requests (submitAnswer)
 * @typedef {{
 *   requestId: number, number: string, state: string, stateText: { zh: string, en: string }, statusToken: string,
 *   statusUrl: string, residentToken: string, residentQrUrl: string,
 * }} SubmitAnswer
 */

/**
 * GET /api/requests/status/:token (statusAnswer)
 * @typedef {{
 *   number: string, service: { code: string, nameZh: string, nameEn: string }, state: string,
 *   stateText: { zh: string, en: string }, reason: string | null, compartmentNo: number | null,
 *   pickupQrUrl: string | null, dropOffQrUrl: string | null, mobileMasked: string, createdAt: string,
 *   stateChangedAt: string, loadedAt: string | null, closedAt: string | null,
 *   doorNotice: 'item_not_taken' | 'nothing_deposited' | null,
 * }} RequestStatus
 */

/**
 * Every error answer (errorBodySchema in controller/http/routes.ts); read by readError in ../shared/phone-api.js.
 * @typedef {{
 *   error: {
 *     code: string, key: string, params?: Record<string, string | number | number[]>, message: string, field?: string,
 *     fields?: { field: string, key: string, params?: Record<string, string | number | number[]>, message: string }[],
 *   },
 * }} ErrorAnswer
 */
