/**
 * Backups of the running product: while phones keep submitting requests, a backup through the controller's own
 * connection (the scheduled one) and one from `npm run backup` in another process; each restored into a fresh data
 * directory holds every request acknowledged (201) before the backup began, and passes integrity_check.
 * Also: a controller refuses to start on a schema newer than it knows, with exit code 3.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { backupDatabase, checkBackupFile, listBackups } from '../controller/ops/backup.js';
import { DB_FILE, listAudit, openStore } from '../controller/store/index.js';
import { MIGRATIONS } from '../controller/store/migrations.js';
import { startTestApp, uniqueIdNumber, type TestApp } from './app-harness.js';
import { compiledEntry, runCompiled } from './compiled.js';
import { tempDir } from './harness.js';
import { ROOT, type Running } from './processes.js';
import { Phone } from './soak/phone.js';

let app: TestApp | null = null;
const procs: Running[] = [];
afterEach(async () => {
  await app?.close();
  app = null;
  while (procs.length) await procs.pop()!.stop();
});

/** Phones submitting requests without pause until stopped; `acked` grows with every 201. */
function busyPhones(h: TestApp, phones = 6) {
  const acked: number[] = [];
  let stop = false;
  let n = 0;
  const loops = Array.from({ length: phones }, async (_, p) => {
    const phone = new Phone(h.api, Phone.address(p));
    for (let i = 0; i < 15 && !stop; i++) {
      const k = n++;
      const r = await phone.post<{ requestId: number }>('/api/requests', {
        name: '王小明',
        mobile: `1390013${String(1000 + k).padStart(4, '0')}`,
        idNumber: uniqueIdNumber(500 + k),
        address: { building: '1号楼', unit: '2', room: `${301 + k}` },
        serviceCode: 'residence_certificate',
      });
      expect(r.status).toBe(201);
      acked.push(r.body.requestId);
    }
  });
  return {
    acked,
    done: async () => {
      stop = true;
      await Promise.all(loops);
    },
  };
}

function requestIds(file: string): Set<number> {
  const db = new Database(file, { readonly: true });
  const ids = new Set((db.prepare('SELECT id FROM requests').all() as { id: number }[]).map((r) => r.id));
  db.close();
  return ids;
}

/** `npm run backup` / `restore`: the same program, from the sources compiled once (test/compiled.ts). */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const entry = await compiledEntry('controller/ops/cli.ts');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [entry, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (out += b.toString()));
    p.once('exit', (code) => resolve({ code, out }));
  });
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
};

describe('backup while the product is busy, restore into a fresh data directory', () => {
  it('the scheduled backup (the controller’s own connection) keeps every acknowledged request', async () => {
    const h = (app = await startTestApp());
    const load = busyPhones(h);
    await until(() => load.acked.length >= 10);
    const before = [...load.acked];
    const backupDir = tempDir();
    const b = await backupDatabase(h.store.db, { dir: backupDir, keep: 3 });
    await until(() => load.acked.length >= before.length + 5); // still serving during and after
    await load.done();
    expect(checkBackupFile(b.file)).toMatchObject({ ok: true, schemaVersion: MIGRATIONS.length });
    const ids = requestIds(b.file);
    for (const id of before) expect(ids.has(id), `request ${id} acknowledged before the backup`).toBe(true);

    const fresh = path.join(tempDir(), 'data');
    const r = await cli(['restore', b.file, '--key', path.join(h.dir, 'server.key')], { DATA_DIR: fresh });
    expect(r.out).toContain('backup.restored');
    expect(r.code).toBe(0);
    const s = openStore({ dataDir: fresh });
    expect(s.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const restored = new Set((s.db.prepare('SELECT id FROM requests').all() as { id: number }[]).map((x) => x.id));
    expect(restored).toEqual(ids);
    expect(listAudit(s.db, {}).some((a) => a.action === 'backup.restored')).toBe(true);
    s.close();
  });

  it('npm run backup from another process, beside the running product, and the key copied apart', async () => {
    const h = (app = await startTestApp());
    const load = busyPhones(h);
    await until(() => load.acked.length >= 10);
    const before = [...load.acked];
    const to = tempDir();
    const keys = tempDir();
    const r = await cli(['backup', '--to', to, '--key-to', keys], { DATA_DIR: h.dir });
    await load.done();
    expect(r.out).toContain('backup written and verified');
    expect(r.code).toBe(0);
    const [b] = listBackups(to);
    expect(checkBackupFile(b!.file).ok).toBe(true);
    const ids = requestIds(b!.file);
    for (const id of before) expect(ids.has(id), `request ${id} acknowledged before the backup`).toBe(true);
    const [keyFile] = fs.readdirSync(keys);
    expect(keyFile).toMatch(/^server-[0-9a-f]{12}\.key$/);
    expect(fs.readFileSync(path.join(keys, keyFile!))).toEqual(fs.readFileSync(path.join(h.dir, 'server.key')));

    // restoring while the controller runs on that data directory is refused (the pid file says it runs)
    fs.writeFileSync(path.join(h.dir, 'controller.pid'), `${process.pid}\n`);
    const refused = await cli(['restore', b!.file], { DATA_DIR: h.dir });
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('stop it first');
  });
});

describe('upgrades', () => {
  it('an older release refuses to start on a newer schema: a clear message, exit code 3, the database untouched', async () => {
    const dir = tempDir();
    openStore({ dataDir: dir, migrations: [...MIGRATIONS, { name: 'from the future', up: 'CREATE TABLE future (x INTEGER);' }] }).close();
    const bytes = fs.readFileSync(path.join(dir, DB_FILE));
    const c = await runCompiled('controller/main.ts', [], { PORT: '0', SIM_PANEL_PORT: '0', DATA_DIR: dir });
    procs.push(c);
    expect(await c.exited).toBe(3);
    expect(c.output()).toContain(`database schema version ${MIGRATIONS.length + 1} is newer than this program knows (${MIGRATIONS.length})`);
    expect(c.output()).toContain('数据库来自更新的版本');
    expect(fs.readFileSync(path.join(dir, DB_FILE))).toEqual(bytes);
  });
});
