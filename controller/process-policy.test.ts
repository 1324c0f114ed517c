import { describe, expect, it } from 'vitest';
import { decideUncaught } from './process-policy.js';
import { classifyStorageError } from './store/storage-health.js';

const sqlite = (code: string) => Object.assign(new Error(code), { code });

describe('uncaught errors', () => {
  it('an SQLite I/O error restarts the process (a commit outcome is unknown); full, read-only and damaged stay up', () => {
    expect(decideUncaught('unhandledRejection', sqlite('SQLITE_IOERR_FSYNC'))).toEqual({ action: 'exit', code: 75 });
    expect(decideUncaught('uncaughtException', sqlite('SQLITE_IOERR'))).toEqual({ action: 'exit', code: 75 });
    for (const code of ['SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_CORRUPT', 'SQLITE_NOTADB']) {
      expect(decideUncaught('uncaughtException', sqlite(code))).toEqual({ action: 'stay' });
    }
  });

  it('a stray exception restarts; a stray rejection is logged and alarmed only', () => {
    expect(decideUncaught('uncaughtException', new TypeError('x is undefined'))).toEqual({ action: 'exit', code: 70 });
    expect(decideUncaught('unhandledRejection', new Error('late'))).toEqual({ action: 'stay' });
    expect(decideUncaught('unhandledRejection', 'a string')).toEqual({ action: 'stay' });
  });

  it('sorts SQLite codes into what an operator can act on', () => {
    expect(classifyStorageError(sqlite('SQLITE_FULL'))).toBe('full');
    expect(classifyStorageError(sqlite('SQLITE_READONLY_ROLLBACK'))).toBe('read_only');
    expect(classifyStorageError(sqlite('SQLITE_IOERR_WRITE'))).toBe('io_error');
    expect(classifyStorageError(sqlite('SQLITE_CORRUPT_INDEX'))).toBe('damaged');
    expect(classifyStorageError(sqlite('SQLITE_BUSY'))).toBeNull();
    expect(classifyStorageError(new Error('SQLITE_FULL'))).toBeNull();
  });
});
