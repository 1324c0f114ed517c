import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isCabinetError } from '../errors.js';
import { decryptField, encryptField, loadOrCreateServerKey, SERVER_KEY_FILE } from './secrets.js';
import { tempDir } from './test-support.js';

describe('server key file', () => {
  it('is created once, 32 bytes, mode 0600, and loads to the same keys', () => {
    const dir = tempDir();
    const a = loadOrCreateServerKey(dir);
    expect(a.created).toBe(true);
    const st = fs.statSync(path.join(dir, SERVER_KEY_FILE));
    expect(st.size).toBe(32);
    expect(st.mode & 0o777).toBe(0o600);
    const b = loadOrCreateServerKey(dir);
    expect(b.created).toBe(false);
    expect(b.keys.fingerprint()).toBe(a.keys.fingerprint());
    expect(b.keys.get('pickup-code').equals(a.keys.get('pickup-code'))).toBe(true);
    expect(a.keys.get('pickup-code').equals(a.keys.get('qr-token'))).toBe(false); // separate subkeys
    expect(fs.readdirSync(dir)).toEqual([SERVER_KEY_FILE]); // no temporary file left behind
  });

  it('refuses a short or corrupt key file and never replaces it', () => {
    const dir = tempDir();
    const file = path.join(dir, SERVER_KEY_FILE);
    fs.writeFileSync(file, Buffer.alloc(20, 1), { mode: 0o600 });
    let err: unknown;
    try {
      loadOrCreateServerKey(dir);
    } catch (e) {
      err = e;
    }
    expect(isCabinetError(err, 'KEY_FILE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/20 bytes instead of 32/);
    expect(fs.readFileSync(file)).toEqual(Buffer.alloc(20, 1));
    fs.writeFileSync(file, Buffer.alloc(32, 0));
    expect(() => loadOrCreateServerKey(dir)).toThrow(/all zero/);
  });

  it('refuses a key file readable by others', () => {
    const dir = tempDir();
    loadOrCreateServerKey(dir);
    fs.chmodSync(path.join(dir, SERVER_KEY_FILE), 0o644);
    expect(() => loadOrCreateServerKey(dir)).toThrow(expect.objectContaining({ code: 'KEY_FILE_PERMISSIONS' }));
  });

  it('does not show keys when logged', () => {
    const { keys } = loadOrCreateServerKey(tempDir());
    expect(JSON.stringify({ keys })).toBe('{"keys":"[ServerKeys]"}');
    expect(inspect(keys)).toBe('[ServerKeys]');
  });
});

describe('field encryption (AES-256-GCM)', () => {
  const { keys } = loadOrCreateServerKey(tempDir());
  const key = keys.get('id-number-encryption');

  it('round-trips, and the ciphertext neither equals nor contains the plaintext', () => {
    const plain = '11010519491231002X';
    const blob = encryptField(key, plain, 'resident.id_number');
    expect(decryptField(key, blob, 'resident.id_number')).toBe(plain);
    expect(blob.toString('latin1')).not.toContain(plain);
    expect(blob.equals(Buffer.from(plain))).toBe(false);
    // random IV: the same plaintext encrypts differently each time
    expect(encryptField(key, plain, 'resident.id_number').equals(blob)).toBe(false);
  });

  it('fails on a tampered ciphertext, another AAD, or another key', () => {
    const blob = encryptField(key, 'secret', 'a');
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => decryptField(key, tampered, 'a')).toThrow();
    expect(() => decryptField(key, blob, 'b')).toThrow();
    expect(() => decryptField(keys.get('outbox-secret'), blob, 'a')).toThrow();
  });
});
