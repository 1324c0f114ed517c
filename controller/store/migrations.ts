/**
 * Forward-only schema migrations. `MIGRATIONS[i]` takes the database from user_version i to i+1.
 *
 * Rules for whoever adds one:
 * - Never edit a migration that has shipped: add a new one. Its SQL is frozen text (the CHECK lists below are
 *   written out, not generated from today's TypeScript constants, for that reason).
 * - They run at start-up, all pending ones inside ONE transaction with the user_version bump, so a crash leaves
 *   the old version intact. `PRAGMA foreign_keys` cannot change inside a transaction: a migration that rebuilds a
 *   referenced table must keep references valid (create new, copy, drop old, rename) without relying on it.
 * - A function migration must be synchronous.
 *
 * Time columns are INTEGER milliseconds since the Unix epoch (UTC); the request number's day is the local date.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  readonly name: string;
  readonly up: string | ((db: Database.Database) => void);
}

const V1_SCHEMA = /* sql */ `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- What residents can ask for.
CREATE TABLE service_items (
  code            TEXT PRIMARY KEY CHECK (code GLOB '[a-z]*' AND length(code) <= 40),
  name_zh         TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 40),
  name_en         TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 80),
  -- JSON array of the resident details it needs beyond name and mobile: "id_number", "address"
  required_fields TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(required_fields) AND json_type(required_fields) = 'array'),
  needs_materials INTEGER NOT NULL DEFAULT 0 CHECK (needs_materials IN (0, 1)),
  enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  sort_order      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE residents (
  id               INTEGER PRIMARY KEY,
  name             TEXT NOT NULL,
  mobile           TEXT NOT NULL CHECK (length(mobile) = 11),
  -- AES-256-GCM (see secrets.ts), HMAC for uniqueness/lookup, and the staff-screen mask (first 3 + last 4)
  id_number_enc    BLOB,
  id_number_hmac   BLOB UNIQUE,
  id_number_masked TEXT,
  building         TEXT,
  unit             TEXT,
  room             TEXT,
  -- random 128-bit identity carried (signed) in the resident's QR code
  qr_id            TEXT NOT NULL UNIQUE,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  CHECK ((id_number_enc IS NULL) = (id_number_hmac IS NULL) AND (id_number_enc IS NULL) = (id_number_masked IS NULL)),
  CHECK ((building IS NULL) = (unit IS NULL) AND (unit IS NULL) = (room IS NULL))
) STRICT;
CREATE INDEX residents_mobile ON residents (mobile);

CREATE TABLE compartments (
  no            INTEGER PRIMARY KEY CHECK (no >= 1),
  board_addr    INTEGER NOT NULL CHECK (board_addr BETWEEN 1 AND 31),
  channel       INTEGER NOT NULL CHECK (channel BETWEEN 1 AND 48),
  state         TEXT NOT NULL DEFAULT 'free'
                CHECK (state IN ('free', 'reserved', 'occupied', 'opening', 'open', 'fault', 'disabled')),
  request_id    INTEGER REFERENCES requests (id),
  direction     TEXT CHECK (direction IN ('for_resident', 'for_staff')),
  fault_reason  TEXT,
  -- last door state recorded from the board
  door          TEXT NOT NULL DEFAULT 'unknown' CHECK (door IN ('open', 'closed', 'unknown')),
  door_at       INTEGER,
  updated_at    INTEGER NOT NULL,
  CHECK ((request_id IS NULL) = (direction IS NULL)),
  CHECK (state NOT IN ('free', 'disabled') OR request_id IS NULL),
  CHECK (state NOT IN ('reserved', 'occupied') OR request_id IS NOT NULL),
  CHECK ((state = 'fault') = (fault_reason IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX compartments_request ON compartments (request_id) WHERE request_id IS NOT NULL;
-- one compartment per (board, channel) among those in service; a disabled one may keep a stale wiring
CREATE UNIQUE INDEX compartments_wiring ON compartments (board_addr, channel) WHERE state <> 'disabled';

CREATE TABLE requests (
  id                INTEGER PRIMARY KEY,
  number            TEXT NOT NULL UNIQUE CHECK (number GLOB 'BB-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]*'),
  -- SHA-256 of the status-link token; the token itself is handed out once and not kept
  status_token_hash BLOB NOT NULL UNIQUE CHECK (length(status_token_hash) = 32),
  resident_id       INTEGER NOT NULL REFERENCES residents (id),
  service_code      TEXT NOT NULL REFERENCES service_items (code),
  state             TEXT NOT NULL CHECK (state IN (
                      'submitted', 'awaiting_materials', 'depositing', 'materials_deposited', 'materials_retrieved',
                      'accepted', 'rejected', 'ready', 'loading', 'loaded', 'overdue', 'collected', 'retrieved',
                      'cancelled')),
  reason            TEXT,
  note              TEXT,
  -- the compartment last assigned; kept after the request ends, for the record
  compartment_no    INTEGER REFERENCES compartments (no),
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  state_changed_at  INTEGER NOT NULL,
  loaded_at         INTEGER,
  closed_at         INTEGER
) STRICT;
CREATE INDEX requests_resident ON requests (resident_id);
CREATE INDEX requests_state ON requests (state);

CREATE TABLE request_day_counters (
  day  TEXT PRIMARY KEY CHECK (day GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
  last INTEGER NOT NULL CHECK (last >= 1)
) STRICT;

-- Pickup / deposit codes: only an HMAC of the code is kept.
CREATE TABLE credentials (
  id            INTEGER PRIMARY KEY,
  request_id    INTEGER NOT NULL REFERENCES requests (id),
  purpose       TEXT NOT NULL CHECK (purpose IN ('pickup', 'deposit')),
  code_hash     BLOB NOT NULL CHECK (length(code_hash) = 32),
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  revoke_reason TEXT,
  CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
) STRICT;
-- unique among ACTIVE codes only: a code may come back once its earlier holder is revoked
CREATE UNIQUE INDEX credentials_active_code ON credentials (code_hash) WHERE status = 'active';
CREATE INDEX credentials_request ON credentials (request_id);

-- Failed-attempt counters, per device, per credential, per staff login. Kept here so a power cycle keeps them.
CREATE TABLE attempt_counters (
  scope           TEXT NOT NULL CHECK (scope IN ('device', 'credential', 'staff')),
  key             TEXT NOT NULL,
  failures        INTEGER NOT NULL DEFAULT 0, -- since the last lockout or success
  consecutive     INTEGER NOT NULL DEFAULT 0, -- since the last success
  lockouts        INTEGER NOT NULL DEFAULT 0, -- how many lockouts in a row (grows the next one)
  locked_until    INTEGER,
  last_failure_at INTEGER,
  PRIMARY KEY (scope, key)
) STRICT;

CREATE TABLE staff (
  id             INTEGER PRIMARY KEY,
  login          TEXT NOT NULL UNIQUE CHECK (login GLOB '[a-z0-9]*' AND length(login) BETWEEN 1 AND 32),
  name           TEXT NOT NULL,
  role           TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
  pin_hash       TEXT NOT NULL,
  must_change_pin INTEGER NOT NULL DEFAULT 0 CHECK (must_change_pin IN (0, 1)),
  disabled       INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;

-- "Unlock intended" is committed before anything goes to a board; its outcome is a later, separate row update,
-- and what the door did is a third kind of fact (door_events). A crash between them is visible at restart.
CREATE TABLE unlock_intents (
  id             INTEGER PRIMARY KEY,
  compartment_no INTEGER NOT NULL REFERENCES compartments (no),
  request_id     INTEGER REFERENCES requests (id),
  actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('staff', 'resident', 'system', 'kiosk')),
  actor_id       TEXT,
  reason         TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL CHECK (expires_at > created_at),
  status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'acked', 'failed', 'expired')),
  status_at      INTEGER NOT NULL,
  seq            INTEGER,
  error          TEXT
) STRICT;
CREATE INDEX unlock_intents_created ON unlock_intents (created_at);
CREATE INDEX unlock_intents_open ON unlock_intents (status) WHERE status IN ('pending', 'sent');

CREATE TABLE door_events (
  id             INTEGER PRIMARY KEY,
  compartment_no INTEGER NOT NULL REFERENCES compartments (no),
  door           TEXT NOT NULL CHECK (door IN ('open', 'closed', 'unknown')),
  source         TEXT NOT NULL CHECK (source IN ('event', 'poll', 'startup')),
  -- the unlock this opening is attributed to; NULL on an 'open' = nobody asked for it (tamper alarm)
  intent_id      INTEGER REFERENCES unlock_intents (id),
  at             INTEGER NOT NULL
) STRICT;
CREATE INDEX door_events_compartment ON door_events (compartment_no, at);

-- Append-only: the triggers below refuse UPDATE and DELETE. No foreign keys: the log outlives what it names.
CREATE TABLE audit_log (
  id             INTEGER PRIMARY KEY,
  at             INTEGER NOT NULL,
  actor_kind     TEXT NOT NULL CHECK (actor_kind IN ('staff', 'resident', 'system', 'kiosk')),
  actor_id       TEXT,
  action         TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
  compartment_no INTEGER,
  request_id     INTEGER,
  detail         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail) AND json_type(detail) = 'object')
) STRICT;
CREATE INDEX audit_log_request ON audit_log (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX audit_log_compartment ON audit_log (compartment_no) WHERE compartment_no IS NOT NULL;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;

-- Messages owed to residents. secret_enc holds the one secret a message carries (a pickup code), encrypted,
-- and is blanked once the message is sent, fails for good, or the credential is revoked.
CREATE TABLE notifications (
  id              INTEGER PRIMARY KEY,
  resident_id     INTEGER NOT NULL REFERENCES residents (id),
  request_id      INTEGER REFERENCES requests (id),
  kind            TEXT NOT NULL CHECK (kind IN (
                    'ready_with_code', 'overdue_reminder', 'rejected', 'materials_received', 'item_retrieved')),
  payload         TEXT NOT NULL CHECK (json_valid(payload) AND json_type(payload) = 'object'),
  secret_enc      BLOB,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  sent_at         INTEGER,
  CHECK (status = 'pending' OR secret_enc IS NULL)
) STRICT;
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
`;

const V1_SEED = /* sql */ `
INSERT INTO service_items (code, name_zh, name_en, required_fields, needs_materials, enabled, sort_order) VALUES
  ('residence_certificate', '居住证明', 'Residence certificate', '["id_number","address"]', 0, 1, 10),
  ('family_relationship', '亲属关系证明', 'Family relationship proof', '["id_number","address"]', 1, 1, 20),
  ('elderly_benefit', '养老/高龄补贴证明', 'Elderly and old-age allowance proof', '["id_number","address"]', 0, 1, 30),
  ('no_criminal_record_letter', '无犯罪记录证明开具介绍信', 'Referral letter for a no-criminal-record certificate', '["id_number","address"]', 0, 1, 40),
  ('hardship_proof', '家庭困难情况证明', 'Proof of family financial hardship', '["id_number","address"]', 1, 1, 50),
  ('insurance_claim_statement', '保险理赔情况说明', 'Statement for an insurance claim', '["id_number","address"]', 1, 1, 60);
`;

// Staff sign-in sessions: only a SHA-256 of the bearer token is kept. Idle expiry slides with use
// (last_seen_at); expires_at is the absolute end. A row is deleted on logout, on PIN change/reset and when the
// account is disabled; expired rows are swept at the next sign-in.
const V2_STAFF_SESSIONS = /* sql */ `
CREATE TABLE staff_sessions (
  id           INTEGER PRIMARY KEY,
  token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  staff_id     INTEGER NOT NULL REFERENCES staff (id),
  device       TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL CHECK (expires_at > created_at)
) STRICT;
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
`;

// Alarms for staff (tamper, door left open, link down, …), kept until someone deals with them. Not personal data:
// messages name compartments and request numbers, never residents. No foreign keys on compartment and request
// (like the audit log, an alarm outlives what it names); the staff member who acknowledged it is a reference.
// An open alarm raised again is not a new row: `count` and `last_at` grow (see store/alarms.ts); the partial
// unique index keeps it to one open row per (kind, compartment, request, message).
const V3_ALARMS = /* sql */ `
CREATE TABLE alarms (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind GLOB '[a-z]*' AND length(kind) <= 40),
  message         TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 500),
  compartment_no  INTEGER,
  request_id      INTEGER,
  raised_at       INTEGER NOT NULL,
  last_at         INTEGER NOT NULL CHECK (last_at >= raised_at),
  count           INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
  acknowledged_at INTEGER,
  acknowledged_by INTEGER REFERENCES staff (id),
  note            TEXT CHECK (length(note) <= 200),
  CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL)),
  CHECK (acknowledged_at IS NOT NULL OR note IS NULL)
) STRICT;
CREATE UNIQUE INDEX alarms_open_once ON alarms (kind, ifnull(compartment_no, 0), ifnull(request_id, 0), message)
  WHERE acknowledged_at IS NULL;
CREATE INDEX alarms_acknowledged ON alarms (acknowledged_at) WHERE acknowledged_at IS NOT NULL;
`;

// History at scale (a decade is ~100,000 requests, ~3 M audit rows): every query a person, a timer or a start-up
// makes is bounded by an index, and the live view's counts come from counters kept by triggers, not from reading
// rows. Indexes only, plus one small table: runs in seconds on a 1 M-request database.
//   door_events_intent         "did this unlock open its door?" (attribution, start-up) without scanning door_events
//   unlock_intents_compartment the latest unlock of a compartment (start-up)
//   unlock_intents_compartment_status  its recent ones, for attributing a door opening
//   notifications_request      a request's messages (staff detail) without scanning the outbox
//   requests_state_id          each state's requests newest first (staff queue, keyset paging); replaces requests_state
//   requests_closed            retention: requests that ended in a time window
//   residents_updated          retention: residents last changed in a time window
//   request_state_counts       how many requests are in each state, kept exact by the triggers below
const V4_HISTORY_AT_SCALE = /* sql */ `
CREATE INDEX door_events_intent ON door_events (intent_id) WHERE intent_id IS NOT NULL;
CREATE INDEX unlock_intents_compartment ON unlock_intents (compartment_no, id);
CREATE INDEX unlock_intents_compartment_status ON unlock_intents (compartment_no, status_at);
CREATE INDEX notifications_request ON notifications (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX requests_state_id ON requests (state, id);
DROP INDEX requests_state;
CREATE INDEX requests_closed ON requests (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX residents_updated ON residents (updated_at);

CREATE TABLE request_state_counts (
  state TEXT PRIMARY KEY,
  n     INTEGER NOT NULL CHECK (n >= 0)
) STRICT, WITHOUT ROWID;
INSERT INTO request_state_counts (state, n) SELECT state, count(*) FROM requests GROUP BY state;
CREATE TRIGGER requests_count_insert AFTER INSERT ON requests
BEGIN
  INSERT INTO request_state_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER requests_count_update AFTER UPDATE OF state ON requests WHEN OLD.state <> NEW.state
BEGIN
  UPDATE request_state_counts SET n = n - 1 WHERE state = OLD.state;
  INSERT INTO request_state_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER requests_count_delete AFTER DELETE ON requests
BEGIN
  UPDATE request_state_counts SET n = n - 1 WHERE state = OLD.state;
END;

-- Start-up reviews unlocks acknowledged with no door opening only past this id (see unlocks.ts): an existing
-- database has its last 1000 reviewed once.
INSERT INTO meta (key, value)
  SELECT 'intents_reviewed_upto', CAST(max(0, ifnull(max(id), 0) - 1000) AS TEXT) FROM unlock_intents;
`;

// The office's lists, statistics and exports over years of history (store/reports.ts), with as little to build as
// possible: building an index reads its whole table, and on a decade of history (~1 M requests, ~27 M audit rows)
// one pass over the audit log alone takes several seconds. So nothing is built on the audit log: it is written in
// time order, its ids are its order and a date range is a range of ids (a request's and a compartment's rows come
// from audit_log_request and audit_log_compartment). Requests get one index that every list and count walks:
//   requests_created    newest first (created_at, id), with the document type and the state carried in it, so a
//                       date range, a type or a finished state is read from the index alone (the few open
//                       requests come from migration 4's requests_state_id)
//   requests_closed_at  requests that ended in a time window, with how they ended (covering: statistics,
//                       retention); replaces migration 4's requests_closed, which it contains
const V5_OFFICE_REPORTS = /* sql */ `
CREATE INDEX requests_created ON requests (created_at, id, service_code, state);
CREATE INDEX requests_closed_at ON requests (closed_at, state) WHERE closed_at IS NOT NULL;
DROP INDEX requests_closed;
`;

/** The name of the migration that records a resident's door outcome as a code (its test finds it by name). */
export const DOOR_OUTCOME_MIGRATION = "a resident's door outcome as a code";

// How a resident's last door closed, as a code on the request (store/compartments.ts writes it with each door change
// of the request; requests.ts lastDoorNotice reads it for the status page): the pickup door closed with the document
// still inside, or the drop-off door closed with nothing in it. Until now it was only the audit row's note; the
// requests waiting on such a door get the code their latest door change's note says, once.
const V6_DOOR_OUTCOME = /* sql */ `
ALTER TABLE requests ADD COLUMN door_outcome TEXT CHECK (door_outcome IN ('item_not_taken', 'nothing_deposited'));
UPDATE requests SET door_outcome = (
  SELECT CASE json_extract(a.detail, '$.note')
           WHEN 'closed with the document still inside' THEN 'item_not_taken'
           WHEN 'closed with nothing inside' THEN 'nothing_deposited'
         END
    FROM audit_log a
   WHERE a.request_id = requests.id AND a.action IN ('compartment.open', 'compartment.occupied', 'compartment.free')
   ORDER BY a.id DESC LIMIT 1)
WHERE state IN ('loaded', 'overdue', 'awaiting_materials');
`;

// A phone submitted an ID number that is registered to another resident: the request is filed under the phone's
// own resident (without that ID number) and held, naming the registered resident, until staff confirm who the
// person is (store/requests.ts confirmIdentity). The phone's answer is the same as for any submission.
const V7_IDENTITY_CHECK = /* sql */ `
ALTER TABLE requests ADD COLUMN identity_check INTEGER REFERENCES residents (id);
`;

// An alarm's words as a key of the word catalogue and its parameters (JSON), so that each screen says it in its
// own language (store/alarms.ts); `message` keeps the words in the primary language for older readers. Rows from
// before have no key: their message is all there is. An identical open alarm is one row per (kind, compartment,
// request, key, parameters), or, without a key, per message as before.
const V8_ALARM_WORDS = /* sql */ `
ALTER TABLE alarms ADD COLUMN words_key TEXT CHECK (words_key GLOB '[a-z]*' AND length(words_key) <= 80);
ALTER TABLE alarms ADD COLUMN words_params TEXT CHECK (words_params IS NULL OR (words_key IS NOT NULL AND json_valid(words_params)));
DROP INDEX alarms_open_once;
CREATE UNIQUE INDEX alarms_open_once ON alarms (
  kind, ifnull(compartment_no, 0), ifnull(request_id, 0), ifnull(words_key, ''), ifnull(words_params, ''),
  CASE WHEN words_key IS NULL THEN message ELSE '' END
) WHERE acknowledged_at IS NULL;
`;

export const ALARM_NOTE_WORDS_MIGRATION = 'alarm notes the system writes: catalogue key and parameters';

/**
 * What the system notes when it ends an alarm itself (materials taken out): a key of the word catalogue and its
 * parameters, as the alarm's own words are. Two columns added, nothing rewritten: instant on any size of table.
 */
const V9_ALARM_NOTE_WORDS = /* sql */ `
ALTER TABLE alarms ADD COLUMN note_key TEXT CHECK (note_key GLOB '[a-z]*' AND length(note_key) <= 80);
ALTER TABLE alarms ADD COLUMN note_params TEXT CHECK (note_params IS NULL OR (note_key IS NOT NULL AND json_valid(note_params)));
`;

// Search by name without reading the history (store/requests.ts searchRequests; ADR 0008): every pair of
// neighbouring characters of a resident's name (ASCII letters lower-cased, as LIKE compares them), with each of their
// requests, so the requests whose resident's name holds a pair come newest first from the primary key. Kept by
// triggers: a request filed or moved to another resident, a request deleted, a name changed. An erased name
// (retention.ts ERASED_NAME) has no pairs: erasure empties the resident's rows here in the same statement.
// The pairs of a name, as SQL over the expression `name` (frozen with this migration).
const namePairs = (
  name: string,
): string => `(WITH RECURSIVE s(n, name) AS (SELECT 1, ${name} UNION ALL SELECT n + 1, name FROM s WHERE n < length(name) - 1)
     SELECT DISTINCT lower(substr(name, n, 2)) AS pair FROM s WHERE length(name) >= 2 AND name <> '已删除')`;
const V10_NAME_SEARCH = /* sql */ `
CREATE TABLE request_name_pairs (
  pair       TEXT NOT NULL,
  request_id INTEGER NOT NULL,
  PRIMARY KEY (pair, request_id)
) STRICT, WITHOUT ROWID;
INSERT INTO request_name_pairs (pair, request_id)
  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < (SELECT ifnull(max(length(name)), 0) FROM residents))
  SELECT DISTINCT lower(substr(p.name, s.n, 2)), q.id
    FROM residents p JOIN requests q ON q.resident_id = p.id JOIN s ON s.n < length(p.name)
   WHERE p.name <> '已删除'
   ORDER BY 1, 2;
CREATE TRIGGER request_name_pairs_insert AFTER INSERT ON requests
BEGIN
  INSERT OR IGNORE INTO request_name_pairs (pair, request_id)
    SELECT pair, NEW.id FROM ${namePairs('(SELECT name FROM residents WHERE id = NEW.resident_id)')};
END;
CREATE TRIGGER request_name_pairs_resident AFTER UPDATE OF resident_id ON requests WHEN OLD.resident_id IS NOT NEW.resident_id
BEGIN
  DELETE FROM request_name_pairs WHERE request_id = OLD.id
    AND pair IN ${namePairs('(SELECT name FROM residents WHERE id = OLD.resident_id)')};
  INSERT OR IGNORE INTO request_name_pairs (pair, request_id)
    SELECT pair, NEW.id FROM ${namePairs('(SELECT name FROM residents WHERE id = NEW.resident_id)')};
END;
CREATE TRIGGER request_name_pairs_delete AFTER DELETE ON requests
BEGIN
  DELETE FROM request_name_pairs WHERE request_id = OLD.id
    AND pair IN ${namePairs('(SELECT name FROM residents WHERE id = OLD.resident_id)')};
END;
CREATE TRIGGER request_name_pairs_rename AFTER UPDATE OF name ON residents WHEN OLD.name IS NOT NEW.name
BEGIN
  DELETE FROM request_name_pairs WHERE pair IN ${namePairs('OLD.name')}
    AND request_id IN (SELECT id FROM requests WHERE resident_id = OLD.id);
  INSERT OR IGNORE INTO request_name_pairs (pair, request_id)
    SELECT g.pair, q.id FROM ${namePairs('NEW.name')} g, requests q WHERE q.resident_id = NEW.id;
END;
`;

export const BOARD_OPENINGS_MIGRATION = "version 2 lock boards' door-opening counts kept across restarts";

/**
 * A version 2 lock board's door-opening counts (PROTOCOL.md §21) as of a STATUS the controller applied, with what
 * else must be true for them to be compared with a STATUS after a restart of the controller: the same board run (its
 * event counter, IDENT firmware and version) and the door record up to then (`door_event_id`: door changes recorded
 * after it are openings already on record). `counts`: one number 0-255 a channel, less the openings still to be
 * confirmed at that STATUS. One row a board, replaced as the counts move. A new table: instant on any history.
 */
const V11_BOARD_OPENINGS = /* sql */ `
CREATE TABLE board_openings (
  addr          INTEGER PRIMARY KEY CHECK (addr BETWEEN 1 AND 31),
  protocol      INTEGER NOT NULL CHECK (protocol = 2),
  firmware      TEXT NOT NULL CHECK (length(firmware) <= 64),
  event_counter INTEGER NOT NULL CHECK (event_counter BETWEEN 0 AND 65535),
  counts        TEXT NOT NULL CHECK (json_valid(counts) AND json_type(counts) = 'array' AND json_array_length(counts) BETWEEN 1 AND 32),
  door_event_id INTEGER NOT NULL CHECK (door_event_id >= 0),
  at            INTEGER NOT NULL
) STRICT;
`;

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'initial schema and service catalogue',
    up: V1_SCHEMA + V1_SEED,
  },
  {
    name: 'staff sessions',
    up: V2_STAFF_SESSIONS,
  },
  {
    name: 'alarms',
    up: V3_ALARMS,
  },
  {
    name: 'history at scale: indexes, request state counters',
    up: V4_HISTORY_AT_SCALE,
  },
  {
    name: 'office lists, statistics and exports: requests by time',
    up: V5_OFFICE_REPORTS,
  },
  {
    name: DOOR_OUTCOME_MIGRATION,
    up: V6_DOOR_OUTCOME,
  },
  {
    name: 'requests held until staff confirm the identity of an ID number already registered',
    up: V7_IDENTITY_CHECK,
  },
  {
    name: 'alarm words: catalogue key and parameters',
    up: V8_ALARM_WORDS,
  },
  {
    name: ALARM_NOTE_WORDS_MIGRATION,
    up: V9_ALARM_NOTE_WORDS,
  },
  {
    name: "search by name: pairs of characters of residents' names",
    up: V10_NAME_SEARCH,
  },
  {
    name: BOARD_OPENINGS_MIGRATION,
    up: V11_BOARD_OPENINGS,
  },
];
