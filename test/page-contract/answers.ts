/**
 * The pages describe what they read from the server in JSDoc typedefs (kiosk-ui/<page>/api-types.js), so that they
 * can stay plain JavaScript (docs/adr/0001-kiosk-ui-typecheck.md). This file holds those descriptions to the server:
 * each answer type the server produces (inferred from its zod answer schema, or its event type) must be assignable
 * to the type the page reads. A field the page reads that the server renamed, dropped or retyped, or a new value of
 * an enum the page does not list, fails `npm run typecheck` here. Types only: nothing here runs.
 */
import type { z } from 'zod';
import type { CabinetEvents } from '../../controller/events.js';
import type { staffPublicSchema } from '../../controller/http/auth.js';
import type { doorAnswerSchema, kioskAnswerSchema } from '../../controller/http/door-routes.js';
import type { cabinetFaceSchema, serviceSchema, statusAnswer, submitAnswer } from '../../controller/http/public-routes.js';
import type { scanMessage } from '../../controller/http/live.js';
import type { errorBodySchema } from '../../controller/http/routes.js';
import type { WordsAnswer } from '../../controller/http/words-routes.js';
import type { alarmSchema, compartmentRowSchema, requestDetailSchema, requestItemSchema } from '../../controller/http/staff-routes.js';
import type * as Kiosk from '../../kiosk-ui/kiosk/api-types.js';
import type * as Phone from '../../kiosk-ui/phone/api-types.js';
import type * as Shared from '../../kiosk-ui/shared/words.js';
import type * as Staff from '../../kiosk-ui/staff/api-types.js';

/** Compiles only when `Server` fits where the page expects `Page`. */
type Fits<Server extends Page, Page> = [Server, Page];
type Event<K extends keyof CabinetEvents> = { type: K } & CabinetEvents[K][0];

export type StaffAnswers = [
  Fits<z.output<typeof staffPublicSchema>, Staff.StaffMember>,
  Fits<z.output<typeof requestItemSchema>, Staff.RequestItem>,
  Fits<z.output<typeof requestDetailSchema>, Staff.RequestDetail>,
  Fits<z.output<typeof alarmSchema>, Staff.Alarm>,
  Fits<z.output<typeof compartmentRowSchema>, Staff.Compartment>,
  Fits<z.output<typeof doorAnswerSchema>, Staff.DoorAnswer>,
];

export type StaffEvents = [
  Fits<Event<'compartment'>, Staff.LiveCompartment>,
  Fits<Event<'request'>, Staff.LiveRequest>,
  Fits<Event<'alarm'>, Staff.LiveAlarm>,
  Fits<Event<'alarm-ack'>, Staff.LiveAlarm>,
  Fits<Event<'link'>, Staff.LiveLink>,
  Fits<ReturnType<typeof scanMessage>, Staff.LiveScan>,
];

export type PhoneAnswers = [
  Fits<z.output<typeof serviceSchema>, Phone.Service>,
  Fits<z.output<typeof submitAnswer>, Phone.SubmitAnswer>,
  Fits<z.output<typeof statusAnswer>, Phone.RequestStatus>,
  Fits<z.output<typeof errorBodySchema>, Phone.ErrorAnswer>,
];

export type KioskAnswers = [
  Fits<z.output<typeof kioskAnswerSchema>, Kiosk.KioskAnswer>,
  Fits<z.output<typeof cabinetFaceSchema>, Kiosk.CabinetFace>,
  Fits<ReturnType<typeof scanMessage>, Kiosk.KioskScan>,
];

export type SharedAnswers = [Fits<WordsAnswer, Shared.WordsAnswer>];
