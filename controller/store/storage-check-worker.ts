/**
 * Worker thread of storageDamageCheckInWorker: the start-up quick_check / integrity_check on a read-only
 * connection of its own, off the controller's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { storageDamageCheck } from './storage-health.js';

const { file } = workerData as { file: string };
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  parentPort!.postMessage(storageDamageCheck(db));
} finally {
  db.close();
}
