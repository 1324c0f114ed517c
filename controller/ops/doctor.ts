/**
 * `doctor`: what is wrong with this installation, in plain words (Chinese and English), each finding ok / warning /
 * problem with what to do. Exit code 0 / 1 / 2 for a monitoring system.
 *
 * It reads the same configuration as the controller. The lock boards are read through the BoardDriver (so any board
 * family the driver speaks works here too) when the controller is stopped; while the controller runs, the port is
 * its own, and the boards are read from its /api/health instead. `--test-doors` opens each lock in turn and waits
 * for its door to be seen open and closed again: staff at the cabinet, controller stopped.
 *
 * Everything that touches the machine (free space, the clock, systemd, the board link) is a dependency, so the
 * checks are tested against the simulator with faults.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BoardDriver, type BoardSnapshot, type CompartmentSnapshot, type LinkState } from '../board/driver.js';
import { loadConfig, type Config } from '../config.js';
import { silentLogger } from '../log.js';
import { DB_FILE } from '../store/db.js';
import { MIGRATIONS } from '../store/migrations.js';
import { SERVER_KEY_FILE } from '../store/secrets.js';
import type { Endpoint } from '../transport/endpoints.js';
import { listBackups } from './backup.js';
import { runningController } from './pidfile.js';

export type Level = 'ok' | 'warning' | 'problem';

export interface Finding {
  /** Stable name of the check, for monitoring: config, data-dir, key-file, database, schema, disk, clock, … */
  readonly check: string;
  readonly level: Level;
  readonly zh: string;
  readonly en: string;
  /** What to do, when not ok. */
  readonly fix?: { readonly zh: string; readonly en: string };
}

/** What the board check sees: the driver's snapshot, or the running controller's /api/health. */
export interface BoardView {
  readonly source: 'driver' | 'controller';
  readonly link: LinkState | string;
  readonly boards: readonly Pick<BoardSnapshot, 'addr' | 'online' | 'firmware' | 'channels'>[];
  readonly compartments: readonly Pick<CompartmentSnapshot, 'compartment' | 'door' | 'item' | 'fault'>[];
  /** Why a board is offline, when the driver said. */
  readonly reasons: ReadonlyMap<number, string>;
  /** Why the link is not up (the port could not be opened, the connection was refused…), when known. */
  readonly linkReason?: string;
}

export interface DoorTest {
  readonly compartment: number;
  readonly opened: boolean;
  readonly closed: boolean;
  readonly error?: string;
}

export interface DoctorDeps {
  readonly env: Record<string, string | undefined>;
  readonly now?: () => Date;
  /** Free bytes on the file system holding dir; null when unknown. */
  readonly freeBytes?: (dir: string) => number | null;
  /** `systemctl is-active` of a unit: 'active', 'inactive', 'failed', … or null when systemd is not there. */
  readonly unitState?: (unit: string) => string | null;
  /**
   * The lock-board endpoint for this configuration. Default: the controller's own choice (a device, tcp://, or
   * the embedded simulator for LOCK_PORT=sim).
   */
  readonly endpoint?: (config: Config) => Promise<{ endpoint: Endpoint; close: () => Promise<void> }>;
  /** The running controller's health, or null when it does not answer. Default: GET http://127.0.0.1:PORT/api/health. */
  readonly controllerHealth?: (config: Config) => Promise<BoardView | null>;
  /** Is a phone-reachable address reachable from here? Default: GET PUBLIC_URL/api/health with a 3 s deadline. */
  readonly reachable?: (url: string) => Promise<boolean>;
  /** How long to wait for the boards to answer and every door to be read. */
  readonly boardWaitMs?: number;
  readonly testDoors?: boolean;
  /** Told before each door test ("open 3, close it again"). */
  readonly onDoorTest?: (compartment: number, phase: 'unlocking' | 'opened') => void;
  readonly doorCloseWaitMs?: number;
}

/** The earliest date a correct clock can show: this release was made after it. */
export const CLOCK_FLOOR = new Date('2026-11-01T00:00:00Z');
export const KIOSK_UNIT = 'bangbangui-kiosk.service';
const MB = 1024 * 1024;
export const DISK_PROBLEM_BYTES = 100 * MB;
export const DISK_WARNING_BYTES = 500 * MB;

const ok = (check: string, zh: string, en: string): Finding => ({ check, level: 'ok', zh, en });
const warn = (check: string, zh: string, en: string, fixZh: string, fixEn: string): Finding => ({
  check,
  level: 'warning',
  zh,
  en,
  fix: { zh: fixZh, en: fixEn },
});
const problem = (check: string, zh: string, en: string, fixZh: string, fixEn: string): Finding => ({
  check,
  level: 'problem',
  zh,
  en,
  fix: { zh: fixZh, en: fixEn },
});

export function exitCode(findings: readonly Finding[]): 0 | 1 | 2 {
  if (findings.some((f) => f.level === 'problem')) return 2;
  if (findings.some((f) => f.level === 'warning')) return 1;
  return 0;
}

export function defaultFreeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

function modeOf(file: string): number | null {
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------------ the checks

function checkDataDir(config: Config): Finding[] {
  const out: Finding[] = [];
  const dir = config.dataDir;
  const dirMode = modeOf(dir);
  if (dirMode === null) {
    out.push(
      problem(
        'data-dir',
        `数据目录 ${dir} 不存在`,
        `data directory ${dir} does not exist`,
        '检查 DATA_DIR，或重新运行安装脚本',
        'check DATA_DIR, or run deploy/install.sh again',
      ),
    );
    return out;
  }
  if ((dirMode & 0o077) !== 0) {
    out.push(
      problem(
        'data-dir',
        `数据目录 ${dir} 权限过宽（${dirMode.toString(8)}），其他用户可读`,
        `data directory ${dir} is mode ${dirMode.toString(8)}: others can read residents' data`,
        `运行：chmod 700 ${dir}`,
        `run: chmod 700 ${dir}`,
      ),
    );
  } else out.push(ok('data-dir', `数据目录 ${dir} 仅本用户可访问（700）`, `data directory ${dir} is for its owner only (${dirMode.toString(8)})`));
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    out.push(
      problem(
        'data-dir',
        `当前用户不能写入 ${dir}`,
        `this user cannot write to ${dir}`,
        '以服务用户运行：sudo bangbangui doctor',
        'run as the service user: sudo bangbangui doctor',
      ),
    );
  }
  const key = path.join(dir, SERVER_KEY_FILE);
  const keyMode = modeOf(key);
  const dbExists = fs.existsSync(path.join(dir, DB_FILE));
  if (keyMode === null) {
    if (dbExists) {
      out.push(
        problem(
          'key-file',
          `密钥文件 ${key} 不存在，但数据库存在`,
          `key file ${key} is missing while the database exists`,
          '从密钥备份恢复：npm run restore -- 备份 --key 密钥文件',
          'restore it from the key backup: npm run restore -- BACKUP --key KEYFILE',
        ),
      );
    } else out.push(ok('key-file', '首次启动时将创建密钥文件', 'the key file will be created at the first start'));
  } else if ((keyMode & 0o077) !== 0) {
    out.push(
      problem(
        'key-file',
        `密钥文件 ${key} 权限过宽（${keyMode.toString(8)}），控制器将拒绝启动`,
        `key file ${key} is mode ${keyMode.toString(8)}; the controller refuses to start with it`,
        `运行：chmod 600 ${key}`,
        `run: chmod 600 ${key}`,
      ),
    );
  } else out.push(ok('key-file', `密钥文件权限正确（${keyMode.toString(8)}）`, `key file mode ${keyMode.toString(8)}`));
  return out;
}

/** Integrity and schema version; also the newest time the database has seen (for the clock check). */
function checkDatabase(config: Config): { findings: Finding[]; newestAt: number | null } {
  const file = path.join(config.dataDir, DB_FILE);
  if (!fs.existsSync(file))
    return { findings: [ok('database', '尚无数据库（首次启动时创建）', 'no database yet (created at the first start)')], newestAt: null };
  const out: Finding[] = [];
  let newestAt: number | null = null;
  const mode = modeOf(file);
  if (mode !== null && (mode & 0o077) !== 0) {
    out.push(
      problem(
        'database',
        `数据库文件权限过宽（${mode.toString(8)}）`,
        `database file is mode ${mode.toString(8)}`,
        `运行：chmod 600 ${file}*`,
        `run: chmod 600 ${file}*`,
      ),
    );
  }
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const result = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    if (result === 'ok') out.push(ok('database', '数据库完整性检查通过', 'database integrity check: ok'));
    else
      out.push(
        problem(
          'database',
          `数据库损坏：${result.slice(0, 200)}`,
          `database damaged: ${result.slice(0, 200)}`,
          '停止服务，恢复最近的备份（见 README “Restore”）',
          'stop the service and restore the latest backup (README, "Restore")',
        ),
      );
    const version = Number(db.pragma('user_version', { simple: true }));
    const known = MIGRATIONS.length;
    if (version === known) out.push(ok('schema', `数据库结构版本 ${version}，与本程序一致`, `schema version ${version}, as this release expects`));
    else if (version < known)
      out.push(
        warn(
          'schema',
          `数据库结构版本 ${version}，下次启动将升级到 ${known}（先自动备份）`,
          `schema version ${version}; the next start upgrades it to ${known} (after a backup)`,
          '重启服务以完成升级',
          'restart the service to upgrade',
        ),
      );
    else
      out.push(
        problem(
          'schema',
          `数据库结构版本 ${version} 比本程序（${known}）新，控制器拒绝启动`,
          `schema version ${version} is newer than this release knows (${known}); the controller refuses to start`,
          '安装写入它的较新版本，或恢复与本版本相配的备份',
          'install the newer release that wrote it, or restore a backup made by this release',
        ),
      );
    try {
      const row = db.prepare<[], { at: number | null }>('SELECT max(at) AS at FROM audit_log').get();
      newestAt = row?.at ?? null;
    } catch {
      newestAt = null;
    }
  } catch (err) {
    out.push(
      problem(
        'database',
        `无法打开数据库：${err instanceof Error ? err.message : String(err)}`,
        `cannot open the database: ${err instanceof Error ? err.message : String(err)}`,
        '以服务用户运行 doctor；若仍失败，恢复最近的备份',
        'run doctor as the service user; if it still fails, restore the latest backup',
      ),
    );
  } finally {
    db?.close();
  }
  return { findings: out, newestAt };
}

function checkDisk(config: Config, freeBytes: (dir: string) => number | null): Finding[] {
  // one finding per file system: the backups are usually on the data disk unless a USB stick is mounted
  const byDevice = new Map<number, string>();
  for (const d of [config.dataDir, config.backupDir]) {
    try {
      const dev = fs.statSync(d).dev;
      if (!byDevice.has(dev)) byDevice.set(dev, d);
    } catch {
      // not there (yet)
    }
  }
  const dirs = [...byDevice.values()];
  return dirs.map((dir) => {
    const free = freeBytes(dir);
    const what = dir === config.backupDir ? '备份目录' : '数据目录';
    if (free === null)
      return warn(
        'disk',
        `无法读取 ${dir} 的剩余空间`,
        `cannot read the free space of ${dir}`,
        '检查该磁盘是否已挂载',
        'check that the disk is mounted',
      );
    const mb = Math.floor(free / MB);
    if (free < DISK_PROBLEM_BYTES)
      return problem(
        'disk',
        `${what} ${dir} 所在磁盘只剩 ${mb} MB`,
        `only ${mb} MB free for ${dir}`,
        '删除无用文件或换更大的磁盘；空间用尽时无法记录取件',
        'free space or use a larger disk: with a full disk no pickup can be recorded',
      );
    if (free < DISK_WARNING_BYTES)
      return warn(
        'disk',
        `${what} ${dir} 所在磁盘剩余 ${mb} MB，偏少`,
        `${mb} MB free for ${dir}, running low`,
        '清理旧文件（如 journalctl --vacuum-size=200M）',
        'clean up old files (e.g. journalctl --vacuum-size=200M)',
      );
    return ok('disk', `${dir} 剩余空间 ${mb} MB`, `${mb} MB free for ${dir}`);
  });
}

function checkClock(now: Date, newestAt: number | null, newestBackup: Date | null): Finding {
  const fixZh = '设置正确时间（timedatectl set-time "YYYY-MM-DD HH:MM"），或启用网络校时（timedatectl set-ntp true）';
  const fixEn = 'set the time (timedatectl set-time "YYYY-MM-DD HH:MM") or enable network time (timedatectl set-ntp true)';
  if (now.getTime() < CLOCK_FLOOR.getTime()) {
    return problem(
      'clock',
      `系统时间 ${now.toISOString()} 早于本版本发布时间，时钟错误`,
      `the clock says ${now.toISOString()}, before this release was made: it is wrong`,
      fixZh,
      fixEn,
    );
  }
  const seen = Math.max(newestAt ?? 0, newestBackup?.getTime() ?? 0);
  if (seen - now.getTime() > 5 * 60_000) {
    return problem(
      'clock',
      `系统时间 ${now.toISOString()} 早于数据库中最近的记录（${new Date(seen).toISOString()}），时钟倒退了`,
      `the clock says ${now.toISOString()}, earlier than the latest record (${new Date(seen).toISOString()}): it went back`,
      fixZh,
      fixEn,
    );
  }
  return ok('clock', `系统时间 ${now.toISOString()} 合理`, `the clock (${now.toISOString()}) is plausible`);
}

function checkPublicUrl(config: Config, reachable: boolean | null): Finding {
  const fixZh = '在 /etc/bangbangui/controller.env 中设置 PUBLIC_URL=http://本机局域网地址:端口 与 HOST=0.0.0.0，然后重启服务';
  const fixEn = "set PUBLIC_URL=http://<this PC's LAN address>:<port> and HOST=0.0.0.0 in /etc/bangbangui/controller.env, then restart";
  if (!config.publicUrl)
    return warn(
      'public-url',
      '未设置 PUBLIC_URL：二维码将指向 127.0.0.1，手机无法打开',
      'PUBLIC_URL is not set: QR codes lead to 127.0.0.1, which no phone can open',
      fixZh,
      fixEn,
    );
  const host = new URL(config.publicUrl).hostname;
  if (/^(localhost|127\.|\[?::1\]?$|0\.0\.0\.0)/.test(host)) {
    return problem(
      'public-url',
      `PUBLIC_URL（${config.publicUrl}）指向本机回环地址，手机无法打开`,
      `PUBLIC_URL (${config.publicUrl}) is a loopback address no phone can reach`,
      fixZh,
      fixEn,
    );
  }
  if (config.host === '127.0.0.1' || config.host === 'localhost' || config.host === '::1') {
    return problem(
      'public-url',
      `HOST=${config.host} 只在本机监听，手机无法访问 ${config.publicUrl}`,
      `HOST=${config.host} listens on this machine only: phones cannot reach ${config.publicUrl}`,
      fixZh,
      fixEn,
    );
  }
  if (reachable === false) {
    return warn(
      'public-url',
      `从本机访问 ${config.publicUrl} 失败（服务未运行，或地址不对）`,
      `${config.publicUrl} does not answer from here (service stopped, or a wrong address)`,
      '确认服务在运行、地址是本机在委员会网络中的地址',
      "check the service runs and the address is this PC's on the committee network",
    );
  }
  return ok('public-url', `手机页面地址 ${config.publicUrl}`, `phone pages at ${config.publicUrl}`);
}

function checkSerialDevice(config: Config): Finding | null {
  const port = config.lockPort;
  if (port === 'sim' || port.startsWith('tcp://')) return null;
  let st: fs.Stats;
  try {
    st = fs.statSync(port);
  } catch {
    return problem(
      'serial',
      `串口设备 ${port} 不存在`,
      `serial device ${port} does not exist`,
      '检查锁板的 USB 线；用 ls -l /dev/serial/by-id/ 找到设备并设置 LOCK_PORT',
      "check the lock board's USB cable; find it with ls -l /dev/serial/by-id/ and set LOCK_PORT",
    );
  }
  if (!st.isCharacterDevice())
    return problem(
      'serial',
      `${port} 不是串口设备`,
      `${port} is not a serial device`,
      '把 LOCK_PORT 设为串口设备路径',
      'set LOCK_PORT to the serial device path',
    );
  try {
    fs.accessSync(port, fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return problem(
      'serial',
      `无权读写 ${port}`,
      `no permission to read and write ${port}`,
      '服务用户须在 dialout 组：usermod -aG dialout bangbangui',
      'the service user must be in the dialout group: usermod -aG dialout bangbangui',
    );
  }
  return ok('serial', `串口设备 ${port} 存在且可读写`, `serial device ${port} exists and is readable and writable`);
}

function judgeBoards(config: Config, view: BoardView | null, linkReason?: string): Finding[] {
  const fixLink = {
    zh: '检查锁板电源和接线（RS-485 A/B）、LOCK_PORT 与 LOCK_BAUD',
    en: "check the board's power and wiring (RS-485 A/B), LOCK_PORT and LOCK_BAUD",
  };
  if (!view) {
    const why = linkReason ? `：${linkReason}` : '';
    return [
      problem(
        'board',
        `无法连接锁板（${config.lockPort}）${why}`,
        `cannot reach the lock board at ${config.lockPort}${linkReason ? `: ${linkReason}` : ''}`,
        `${fixLink.zh}；确认没有其他程序占用该串口`,
        `${fixLink.en}; make sure no other program holds the port`,
      ),
    ];
  }
  const out: Finding[] = [];
  for (const want of config.layout.boards) {
    const b = view.boards.find((x) => x.addr === want.addr);
    const reason = view.reasons.get(want.addr);
    if (!b || !b.online) {
      if (reason && /channels/.test(reason)) {
        out.push(
          problem(
            'board',
            `锁板 ${want.addr} 与布局不符：${reason}`,
            `board ${want.addr} does not match the layout: ${reason}`,
            '检查 LOCK_LAYOUT（板数 x 每板通道数）与实际锁板',
            'check LOCK_LAYOUT (boards x channels per board) against the boards fitted',
          ),
        );
      } else {
        out.push(
          problem(
            'board',
            `锁板 ${want.addr} 无应答${reason ? `（${reason}）` : ''}`,
            `board ${want.addr} does not answer${reason ? ` (${reason})` : ''}`,
            fixLink.zh,
            fixLink.en,
          ),
        );
      }
      continue;
    }
    if (b.channels !== null && b.channels !== want.channels) {
      out.push(
        warn(
          'board',
          `锁板 ${want.addr} 有 ${b.channels} 个通道，布局只用 ${want.channels} 个`,
          `board ${want.addr} has ${b.channels} channels; the layout uses ${want.channels}`,
          '若柜格更多，修改 LOCK_LAYOUT',
          'if the cabinet has more compartments, change LOCK_LAYOUT',
        ),
      );
    } else {
      out.push(
        ok(
          'board',
          `锁板 ${want.addr} 应答（固件 ${b.firmware ?? '?'}，${b.channels ?? want.channels} 通道）`,
          `board ${want.addr} answers (firmware ${b.firmware ?? '?'}, ${b.channels ?? want.channels} channels)`,
        ),
      );
    }
  }
  const unknown = view.compartments.filter((c) => c.door === 'unknown' || c.item === 'unknown').map((c) => c.compartment);
  const faulty = view.compartments.filter((c) => c.fault !== 'NONE' && c.fault !== 'unknown').map((c) => `${c.compartment} (${c.fault})`);
  const open = view.compartments.filter((c) => c.door === 'open').map((c) => c.compartment);
  const online = out.every((f) => f.level !== 'problem');
  if (online && unknown.length > 0) {
    out.push(
      problem(
        'doors',
        `柜格 ${unknown.join(', ')} 的门或物品传感器读不出`,
        `compartments ${unknown.join(', ')}: door or item sensor cannot be read`,
        '检查这些柜格的传感器接线',
        "check these compartments' sensor wiring",
      ),
    );
  }
  if (faulty.length > 0) {
    out.push(
      problem(
        'doors',
        `柜格 ${faulty.join(', ')} 报告锁故障`,
        `compartments ${faulty.join(', ')} report a lock fault`,
        '检查锁线圈及接线',
        'check the lock coil and its wiring',
      ),
    );
  }
  if (open.length > 0) {
    out.push(
      warn(
        'doors',
        `柜格 ${open.join(', ')} 的门开着`,
        `door${open.length > 1 ? 's' : ''} ${open.join(', ')} open`,
        '关上柜门；若门已关上仍显示开着，检查门磁开关和 LOCK_DOOR_POLARITY',
        'close them; if shut but read open, check the door switch and LOCK_DOOR_POLARITY',
      ),
    );
  }
  if (online && unknown.length === 0 && faulty.length === 0 && open.length === 0 && view.compartments.length > 0) {
    out.push(
      ok('doors', `${view.compartments.length} 个柜门均已关闭，传感器读数正常`, `all ${view.compartments.length} doors shut, sensors read plausibly`),
    );
  }
  return out;
}

function checkBackups(config: Config, now: Date): Finding {
  const newest = listBackups(config.backupDir)[0];
  const fixZh = `运行 npm run backup（或 sudo bangbangui backup），并检查 BACKUP_DIR（${config.backupDir}）是否可写`;
  const fixEn = `run npm run backup (or sudo bangbangui backup) and check BACKUP_DIR (${config.backupDir}) is writable`;
  if (config.backupIntervalHours === 0 && !newest)
    return warn('backup', '自动备份已关闭，且没有任何备份', 'automatic backups are off and there is no backup', fixZh, fixEn);
  if (!newest) return warn('backup', `${config.backupDir} 中还没有备份`, `no backup in ${config.backupDir} yet`, fixZh, fixEn);
  const ageH = (now.getTime() - newest.takenAt.getTime()) / 3_600_000;
  if (ageH < -0.1) {
    return warn(
      'backup',
      `最近的备份 ${newest.name} 的时间晚于现在：时钟不对`,
      `the latest backup (${newest.name}) is dated after now: the clock is wrong`,
      '先校正时钟（见上），再运行 npm run backup',
      'set the clock first (see above), then run npm run backup',
    );
  }
  const age = ageH < 48 ? `${ageH.toFixed(1)} h` : `${(ageH / 24).toFixed(0)} d`;
  if (ageH > 7 * 24)
    return problem('backup', `最近的备份已是 ${age} 前（${newest.name}）`, `the latest backup is ${age} old (${newest.name})`, fixZh, fixEn);
  if (config.backupIntervalHours > 0 && ageH > 2 * config.backupIntervalHours)
    return warn('backup', `最近的备份已是 ${age} 前（${newest.name}）`, `the latest backup is ${age} old (${newest.name})`, fixZh, fixEn);
  return ok('backup', `最近的备份 ${age} 前：${newest.name}`, `latest backup ${age} ago: ${newest.name}`);
}

/** `systemctl show` of a unit: its ActiveState, 'not-found' when it is not installed, null without systemd. */
export function systemdUnitState(unit: string): string | null {
  const r = spawnSync('systemctl', ['show', '--property=LoadState,ActiveState', unit], { encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status !== 0) return null;
  const props = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
  return props.LoadState === 'not-found' ? 'not-found' : (props.ActiveState ?? null);
}

function checkKiosk(unitState: (unit: string) => string | null): Finding {
  const state = unitState(KIOSK_UNIT);
  if (state === 'not-found')
    return warn(
      'kiosk',
      '触摸屏服务未安装',
      'the touchscreen service is not installed',
      '在柜机上运行 deploy/install.sh',
      "run deploy/install.sh on the cabinet's PC",
    );
  if (state === null)
    return warn(
      'kiosk',
      '无法查询触摸屏服务（没有 systemd）',
      'cannot tell whether the touchscreen runs (no systemd)',
      '在柜机上以安装脚本安装',
      "install with deploy/install.sh on the cabinet's PC",
    );
  if (state === 'active') return ok('kiosk', '触摸屏服务正在运行', 'the touchscreen service is running');
  return problem(
    'kiosk',
    `触摸屏服务未运行（${state}）`,
    `the touchscreen service is not running (${state})`,
    `运行：sudo systemctl restart ${KIOSK_UNIT}；查看原因：journalctl -u ${KIOSK_UNIT} -b`,
    `run: sudo systemctl restart ${KIOSK_UNIT}; why: journalctl -u ${KIOSK_UNIT} -b`,
  );
}

// ------------------------------------------------------------------------------------------ board access

/** The driver exactly as the controller builds it (the reply deadline a vendor adapter needs included). */
async function driverFor(config: Config, endpoint: Endpoint): Promise<BoardDriver> {
  const { driverTimeoutMs } = await import('../main.js');
  return new BoardDriver({ ...config, responseTimeoutMs: driverTimeoutMs(config), endpoint, logger: silentLogger() });
}

async function defaultEndpoint(config: Config): Promise<{ endpoint: Endpoint; close: () => Promise<void> }> {
  const { endpointFor } = await import('../main.js');
  const chosen = await endpointFor(config);
  return {
    endpoint: chosen.endpoint,
    close: async () => {
      await chosen.cabinet?.close();
    },
  };
}

async function defaultControllerHealth(config: Config): Promise<BoardView | null> {
  try {
    // the kiosk listener (this machine only) is where the health includes the item sensors
    const res = await fetch(`http://127.0.0.1:${config.kioskPort}/api/health`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return null;
    const h = (await res.json()) as { link: { state: string }; boards: BoardView['boards']; compartments: BoardView['compartments'] };
    return { source: 'controller', link: h.link.state, boards: h.boards, compartments: h.compartments, reasons: new Map() };
  } catch {
    return null;
  }
}

async function defaultReachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Opens the link with the driver, waits for the boards and every sensor, optionally tests each door. */
async function readBoards(config: Config, deps: DoctorDeps): Promise<{ view: BoardView; doors: DoorTest[] }> {
  const { endpoint, close } = await (deps.endpoint ?? defaultEndpoint)(config);
  const driver = await driverFor(config, endpoint);
  const reasons = new Map<number, string>();
  let linkReason: string | undefined;
  driver.on('link', (e) => {
    if (e.reason) linkReason = e.reason;
  });
  driver.on('board', (e) => {
    if (!e.online && e.reason) reasons.set(e.addr, e.reason);
    else if (e.online) reasons.delete(e.addr);
  });
  const doors: DoorTest[] = [];
  try {
    await driver.start();
    const deadline = Date.now() + (deps.boardWaitMs ?? Math.max(3000, config.responseTimeoutMs * (config.retries + 1) * 2 + 1000));
    const settled = () => {
      const s = driver.snapshot();
      return s.boards.every((b) => b.online) && s.compartments.every((c) => c.door !== 'unknown' && c.item !== 'unknown');
    };
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (deps.testDoors && settled()) {
      for (const c of driver.snapshot().compartments) doors.push(await testDoor(driver, c.compartment, config, deps));
    }
    const s = driver.snapshot();
    return {
      view: { source: 'driver', link: s.link, boards: s.boards, compartments: s.compartments, reasons, ...(linkReason ? { linkReason } : {}) },
      doors,
    };
  } finally {
    await driver.stop();
    await close();
  }
}

async function testDoor(driver: BoardDriver, compartment: number, config: Config, deps: DoctorDeps): Promise<DoorTest> {
  const door = () => driver.snapshot().compartments[compartment - 1]!.door;
  const waitDoor = async (want: 'open' | 'closed', ms: number) => {
    const until = Date.now() + ms;
    while (door() !== want && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    return door() === want;
  };
  deps.onDoorTest?.(compartment, 'unlocking');
  try {
    await driver.unlock(compartment);
  } catch (err) {
    return { compartment, opened: false, closed: door() === 'closed', error: err instanceof Error ? err.message : String(err) };
  }
  const opened = await waitDoor('open', config.doorOpenTimeoutMs);
  if (!opened) return { compartment, opened: false, closed: door() === 'closed' };
  deps.onDoorTest?.(compartment, 'opened');
  const closed = await waitDoor('closed', deps.doorCloseWaitMs ?? 60_000);
  return { compartment, opened, closed };
}

function judgeDoorTests(tests: readonly DoorTest[]): Finding[] {
  if (tests.length === 0) return [];
  const notOpened = tests.filter((t) => !t.opened);
  const notClosed = tests.filter((t) => t.opened && !t.closed);
  const out: Finding[] = [];
  if (notOpened.length > 0) {
    out.push(
      problem(
        'door-test',
        `柜格 ${notOpened.map((t) => t.compartment).join(', ')} 开锁后未见门打开`,
        `compartments ${notOpened.map((t) => t.compartment).join(', ')}: the lock was pulsed but the door was not seen open`,
        '检查锁舌是否卡住、锁线圈及门磁开关；可在员工后台停用该柜格',
        'check the latch, the coil and the door switch; disable the compartment in the staff console meanwhile',
      ),
    );
  }
  if (notClosed.length > 0) {
    out.push(
      warn(
        'door-test',
        `柜格 ${notClosed.map((t) => t.compartment).join(', ')} 打开后未见关闭`,
        `compartments ${notClosed.map((t) => t.compartment).join(', ')} were opened and not seen closed`,
        '关上柜门；若已关上，检查门磁开关',
        'close them; if they are shut, check the door switch',
      ),
    );
  }
  if (out.length === 0)
    out.push(
      ok(
        'door-test',
        `${tests.length} 个柜门逐一开锁，均打开并关好`,
        `all ${tests.length} locks opened one at a time, each door seen open and shut again`,
      ),
    );
  return out;
}

// ------------------------------------------------------------------------------------------ the run

export async function runDoctor(deps: DoctorDeps): Promise<Finding[]> {
  const now = (deps.now ?? (() => new Date()))();
  let config: Config;
  try {
    config = loadConfig(deps.env);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return [
      problem(
        'config',
        `配置无效：${msg}`,
        `configuration invalid: ${msg}`,
        '修改 /etc/bangbangui/controller.env（取值范围见 README “Configuration”）',
        'fix /etc/bangbangui/controller.env (ranges in README, "Configuration")',
      ),
    ];
  }
  const findings: Finding[] = [ok('config', '配置有效', 'configuration valid')];
  findings.push(...checkDataDir(config));
  const db = checkDatabase(config);
  findings.push(...db.findings);
  findings.push(...checkDisk(config, deps.freeBytes ?? defaultFreeBytes));
  const newestBackup = listBackups(config.backupDir)[0]?.takenAt ?? null;
  findings.push(checkClock(now, db.newestAt, newestBackup));

  const serial = checkSerialDevice(config);
  if (serial) findings.push(serial);
  if (config.lockPort === 'sim') {
    findings.push(
      warn(
        'serial',
        'LOCK_PORT=sim：使用模拟柜，没有连接真实的锁',
        'LOCK_PORT=sim: the simulated cabinet, no real locks',
        '在柜机上把 LOCK_PORT 设为锁板的串口（/dev/serial/by-id/…）',
        "on the cabinet, set LOCK_PORT to the lock board's port (/dev/serial/by-id/…)",
      ),
    );
  }
  const controllerPid = runningController(config.dataDir);
  const health = await (deps.controllerHealth ?? defaultControllerHealth)(config);
  if (controllerPid !== null || health !== null) {
    findings.push(
      ok(
        'controller',
        `控制器正在运行${controllerPid !== null ? `（进程 ${controllerPid}）` : ''}，锁板状态取自它`,
        `the controller is running${controllerPid !== null ? ` (process ${controllerPid})` : ''}; board state read from it`,
      ),
    );
    findings.push(...judgeBoards(config, health));
    if (deps.testDoors) {
      findings.push(
        warn(
          'door-test',
          '控制器运行时不能逐门测试',
          'the doors cannot be tested while the controller runs',
          '先停止服务：sudo systemctl stop bangbangui，测试后再启动',
          'stop it first: sudo systemctl stop bangbangui, and start it again afterwards',
        ),
      );
    }
  } else if (serial === null || serial.level === 'ok') {
    let board: { view: BoardView; doors: DoorTest[] } | null = null;
    try {
      board = await readBoards(config, deps);
    } catch (err) {
      findings.push(
        problem(
          'board',
          `无法打开锁板连接：${err instanceof Error ? err.message : String(err)}`,
          `cannot open the board link: ${err instanceof Error ? err.message : String(err)}`,
          '检查 LOCK_PORT；串口是否被其他程序占用',
          'check LOCK_PORT and that no other program holds the port',
        ),
      );
    }
    if (board) {
      // a link that never came up says nothing about the boards; a link up with boards silent does
      const reached = board.view.link === 'online' || board.view.reasons.size > 0;
      findings.push(...judgeBoards(config, reached ? board.view : null, board.view.linkReason));
      findings.push(...judgeDoorTests(board.doors));
    }
  }
  const reachable = config.publicUrl && health !== null ? await (deps.reachable ?? defaultReachable)(config.publicUrl) : null;
  findings.push(checkPublicUrl(config, reachable));
  findings.push(checkKiosk(deps.unitState ?? systemdUnitState));
  findings.push(checkBackups(config, now));
  return findings;
}

const LABEL: Record<Level, string> = { ok: 'ok     ', warning: 'warning', problem: 'problem' };

export function formatFindings(findings: readonly Finding[], now: Date = new Date()): string {
  const lines = [`帮办柜 doctor — ${now.toISOString()}`, ''];
  for (const f of findings) {
    lines.push(`  ${LABEL[f.level]}  ${f.zh}`, `           ${f.en}`);
    if (f.fix) lines.push(`           → ${f.fix.zh}`, `           → ${f.fix.en}`);
  }
  const problems = findings.filter((f) => f.level === 'problem').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  const code = exitCode(findings);
  lines.push(
    '',
    code === 0
      ? '结论：一切正常 / all ok (exit 0)'
      : `结论：${problems} 个问题，${warnings} 个警告 / ${problems} problem(s), ${warnings} warning(s) (exit ${code})`,
  );
  return lines.join('\n');
}
