/**
 * The server key and what is derived from it.
 *
 * One 32-byte random key lives in `<dataDir>/server.key` (raw bytes, mode 0600). It is created once, atomically
 * (written to a temporary file, fsynced, then hard-linked into place so an existing key is never replaced), and
 * a missing-but-expected, short, long or loosely-permissioned key file is a start-up error: replacing it would
 * make every encrypted ID number and every pickup-code hash unusable.
 *
 * Purpose-specific subkeys are derived with HKDF-SHA256, so a key used for one thing (e.g. pickup-code hashes)
 * is never reused for another (e.g. QR signatures). The fingerprint subkey lets the store check that the key
 * file belongs to the database it opens.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { CabinetError } from '../errors.js';

export const SERVER_KEY_FILE = 'server.key';
export const SERVER_KEY_BYTES = 32;
const HKDF_SALT = Buffer.from('bangbangui/server-key/v1', 'utf8');

export const KEY_PURPOSES = [
  'id-number-encryption', // AES-256-GCM of ID numbers
  'id-number-lookup', // HMAC of ID numbers, for uniqueness and lookup
  'pickup-code', // HMAC of pickup / deposit codes
  'phone-check', // HMAC of the last 4 phone digits, compared in constant time
  'qr-token', // signatures of QR tokens
  'outbox-secret', // AES-256-GCM of the one secret a notification carries (the code)
  'fingerprint', // identifies the key in the database's meta table
] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** The derived subkeys. Never logged: inspect() and JSON show nothing. */
export class ServerKeys {
  readonly #keys: Map<KeyPurpose, Buffer>;

  constructor(master: Buffer) {
    if (master.length !== SERVER_KEY_BYTES) throw new RangeError(`server key must be ${SERVER_KEY_BYTES} bytes`);
    this.#keys = new Map(KEY_PURPOSES.map((p) => [p, Buffer.from(hkdfSync('sha256', master, HKDF_SALT, `bangbangui:${p}`, 32))]));
  }

  get(purpose: KeyPurpose): Buffer {
    const k = this.#keys.get(purpose);
    if (!k) throw new Error(`no key for ${purpose}`);
    return k;
  }

  /** Hex of a MAC over a constant: equal for the same server key, reveals nothing about it. */
  fingerprint(): string {
    return hmacSha256(this.get('fingerprint'), 'fingerprint').subarray(0, 16).toString('hex');
  }

  toJSON(): string {
    return '[ServerKeys]';
  }

  [inspect.custom](): string {
    return '[ServerKeys]';
  }
}

export interface LoadedKey {
  readonly keys: ServerKeys;
  /** True when this call created the key file. */
  readonly created: boolean;
  readonly file: string;
}

function keyError(code: 'KEY_FILE_INVALID' | 'KEY_FILE_PERMISSIONS', file: string, what: string): CabinetError {
  return new CabinetError(
    code,
    `server key file ${file} ${what}. It is not replaced automatically: restore it from backup ` +
      `(without it encrypted ID numbers and pickup codes cannot be read).`,
    { file },
  );
}

function readKeyFile(file: string): Buffer {
  const st = fs.lstatSync(file);
  if (!st.isFile()) throw keyError('KEY_FILE_INVALID', file, 'is not a regular file');
  if ((st.mode & 0o077) !== 0) {
    throw keyError('KEY_FILE_PERMISSIONS', file, `is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
  const key = fs.readFileSync(file);
  if (key.length !== SERVER_KEY_BYTES) {
    throw keyError('KEY_FILE_INVALID', file, `has ${key.length} bytes instead of ${SERVER_KEY_BYTES}`);
  }
  if (key.every((b) => b === 0)) throw keyError('KEY_FILE_INVALID', file, 'is all zero bytes');
  return key;
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on directories; the key file itself was fsynced.
  }
}

/**
 * Loads `<dataDir>/server.key`, creating it when `allowCreate` and it does not exist.
 * The caller passes allowCreate=false when a database already exists: a key that vanished is then an error.
 */
export function loadOrCreateServerKey(dataDir: string, options: { allowCreate?: boolean } = {}): LoadedKey {
  const allowCreate = options.allowCreate ?? true;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SERVER_KEY_FILE);
  if (fs.existsSync(file)) return { keys: new ServerKeys(readKeyFile(file)), created: false, file };
  if (!allowCreate) {
    throw keyError('KEY_FILE_INVALID', file, 'is missing although the database already exists');
  }
  const key = randomBytes(SERVER_KEY_BYTES);
  const tmp = path.join(dataDir, `.${SERVER_KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, key);
    fs.fchmodSync(fd, 0o600);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file); // atomic, and fails if another process created the key meanwhile
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { keys: new ServerKeys(readKeyFile(file)), created: false, file };
    throw err;
  }
  fs.rmSync(tmp, { force: true });
  fsyncDir(dataDir);
  key.fill(0);
  return { keys: new ServerKeys(readKeyFile(file)), created: true, file };
}

// ---------------------------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------------------------

export function hmacSha256(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Constant-time equality of two digests; different lengths are simply unequal (timingSafeEqual would throw). */
export function digestEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const ENC_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM. Output: version(1) | iv(12) | tag(16) | ciphertext. `aad` binds the ciphertext to its use
 * (e.g. "resident.id_number"), so a value cannot be moved to another column and still decrypt.
 */
export function encryptField(key: Buffer, plaintext: string, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(ENC_VERSION), iv, cipher.getAuthTag(), ct]);
}

export function decryptField(key: Buffer, blob: Buffer, aad: string): string {
  if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== ENC_VERSION) {
    throw new CabinetError('DATA_CORRUPT', 'encrypted field has an unknown format');
  }
  const iv = blob.subarray(1, 1 + IV_BYTES);
  const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}

/** 128 random bits, base64url (22 characters). */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
