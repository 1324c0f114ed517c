/**
 * The operator's commands, with the controller's own configuration (the same environment variables):
 *
 *   npm run backup  [-- --to DIR] [--key-to DIR]     a verified backup now (and/or a copy of the key)
 *   npm run restore -- BACKUP [--key FILE]           restore a backup into DATA_DIR (controller stopped)
 *   npm run doctor  [-- --test-doors] [--json]       check the installation; exit 0 ok, 1 warnings, 2 problems
 *
 * Installed (deploy/install.sh), the same commands run as the service's user: `sudo bangbangui backup` etc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig, type Config } from '../config.js';
import { isCabinetError } from '../errors.js';
import { DB_FILE, DEFAULT_BUSY_TIMEOUT_MS } from '../store/db.js';
import { loadOrCreateServerKey } from '../store/secrets.js';
import { backupDatabase, backupKeyFile } from './backup.js';
import { restoreBackup } from './restore.js';

const USAGE = `usage:
  backup  [--to DIR] [--key-to DIR]   a verified backup of the database now, to DIR (default BACKUP_DIR);
                                      --key-to DIR copies the server key to DIR (keep it apart from the backups)
  restore BACKUP [--key FILE]         restore BACKUP into DATA_DIR, with the controller stopped; --key gives the
                                      key file kept with the backups (needed in a fresh data directory)
  doctor  [--test-doors] [--json]     check configuration, data, disk, clock, board and services;
                                      exit 0 ok, 1 warnings, 2 problems`;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function config(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (isCabinetError(e, 'CONFIG_INVALID')) fail(`${e.message}\nSee README.md, "Configuration".`);
    throw e;
  }
}

async function backup(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { to: { type: 'string' }, 'key-to': { type: 'string' } }, strict: true });
  const cfg = config();
  const file = path.join(cfg.dataDir, DB_FILE);
  if (!fs.existsSync(file)) fail(`no database at ${file} (DATA_DIR=${cfg.dataDir})`);
  process.umask(0o077);
  if (values['key-to'] !== undefined) {
    const key = loadOrCreateServerKey(cfg.dataDir, { allowCreate: false });
    const written = backupKeyFile(cfg.dataDir, path.resolve(values['key-to']), key.keys.fingerprint());
    out(`密钥已复制 / key copied: ${written}`);
    out('  请与数据库备份分开保管 / keep it apart from the database backups (see README, "Backups").');
    if (values.to === undefined) return 0;
  }
  // A connection of its own beside the running controller: SQLite's online backup gives a consistent copy.
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${DEFAULT_BUSY_TIMEOUT_MS}`);
    const r = await backupDatabase(db, { dir: path.resolve(values.to ?? cfg.backupDir), keep: cfg.backupKeep });
    out(`备份完成并已校验 / backup written and verified: ${r.file}`);
    out(
      `  ${r.bytes} bytes, schema version ${r.schemaVersion}, integrity ok${r.removed.length ? `; removed ${r.removed.length} older (BACKUP_KEEP=${cfg.backupKeep})` : ''}`,
    );
    return 0;
  } finally {
    db.close();
  }
}

function restore(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { key: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) fail(`restore needs exactly one backup file\n${USAGE}`);
  const cfg = config();
  process.umask(0o077);
  try {
    const r = restoreBackup({
      dataDir: cfg.dataDir,
      backupFile: path.resolve(positionals[0]!),
      ...(values.key !== undefined ? { keyFile: path.resolve(values.key) } : {}),
    });
    out(
      `已恢复 / restored: ${positionals[0]} → ${cfg.dataDir} (schema ${r.backupSchemaVersion}${r.schemaVersion !== r.backupSchemaVersion ? ` → ${r.schemaVersion}` : ''})`,
    );
    if (r.replacedDir) out(`  原数据已移至 / the previous data was moved to ${r.replacedDir}`);
    out(`  审计日志 / audit log entry #${r.auditId} (backup.restored)`);
    out('  下次启动时，控制器先读取锁板再接受开门操作：柜格实际内容为准，差异会提示工作人员。');
    out('  The next start reads the boards before any door action: what is really in the compartments wins, and');
    out('  every difference is shown to staff as an alarm. Start it: sudo systemctl start bangbangui');
    return 0;
  } catch (e) {
    if (isCabinetError(e, 'RESTORE_REFUSED') || isCabinetError(e, 'KEY_MISMATCH') || isCabinetError(e, 'KEY_FILE_INVALID')) {
      fail(`未恢复 / not restored: ${e.message}`);
    }
    throw e;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'backup':
      return backup(rest);
    case 'restore':
      return restore(rest);
    case 'doctor': {
      const { runDoctorCli } = await import('./doctor-cli.js');
      return runDoctorCli(rest);
    }
    case '--help':
    case '-h':
    case 'help':
      out(USAGE);
      return 0;
    default:
      fail(`unknown command ${command ?? '(none)'}\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => fail(`${e instanceof Error ? e.message : String(e)}`, 2),
);
