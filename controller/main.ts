/**
 * `npm start`: the controller process. With no configuration it runs against the embedded
 * simulated cabinet (and serves the simulator's developer panel), and prints its URLs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
// The simulator is loaded only when LOCK_PORT=sim asks for it (endpointFor, startController): types only here.
import type { SimCabinet } from '../sim/cabinet.js';
import type { PanelServer } from '../sim/panel/server.js';
import { BoardDriver } from './board/driver.js';
import { SYSTEM_ACTOR, type Clock } from './domain/types.js';
import { replyDeadlineMs } from './domain/unlock-policy.js';
import { EventBus } from './events.js';
import { createLogAdapter, createWebhookAdapter, NotificationDispatcher } from './domain/notify.js';
import { CabinetFlows } from './flows/cabinet.js';
import { ScannerInput, scannerEndpoint } from './scanner.js';
import { reconcile } from './flows/reconcile.js';
import { DB_FILE } from './store/db.js';
import { alarmSink, appendAudit, applyLayout, ensureInitialAdmin, listCompartments, openStore, type Store } from './store/index.js';
import { layoutPlaces } from './board/layout.js';
import { vendorEndpoint, type AdapterCounters } from './board/vendor-adapter.js';
import { vendorCodec } from '../firmware-protocol/vendors/index.js';
import { loadConfig, type Config } from './config.js';
import { CabinetError, isCabinetError } from './errors.js';
import { setupWarnings } from './setup-warnings.js';
import { createApp, type AppDeps } from './http/app.js';
import { attachLive } from './http/live.js';
import { markKioskListener } from './http/auth.js';
import { createLogger, silentLogger, type Logger } from './log.js';
import { backupBeforeMigration } from './ops/backup.js';
import { BackupSchedule } from './ops/backup-schedule.js';
import { writePidFile } from './ops/pidfile.js';
import { installProcessPolicy } from './process-policy.js';
import {
  NightlyDamageCheck,
  StorageHealth,
  storageSaid,
  storageAccessCheck,
  storageDamageCheckInWorker,
  takeCleanStopMarker,
  writeCleanStopMarker,
} from './store/storage-health.js';
import { say } from './words/catalogue.js';
import { said } from './words/keys.js';
import { loadSerialPort, parseTcpUrl, serialEndpoint, streamEndpoint, tcpEndpoint, type Endpoint } from './transport/endpoints.js';

export interface Controller {
  config: Config;
  driver: BoardDriver;
  flows: CabinetFlows;
  store: Store;
  bus: EventBus;
  /** Whether the database can be written; out of service while not. */
  storage: StorageHealth;
  server: Server;
  /** The first admin's login and PIN, when this start created them (print once, never stored in clear). */
  initialAdmin: { login: string; pin: string } | null;
  /** Base URL of the public listener (phones, staff). */
  url: string;
  /** Base URL of the kiosk listener (127.0.0.1): the cabinet's own screen. */
  kioskUrl: string;
  sim: { cabinet: SimCabinet; panel: PanelServer } | null;
  /**
   * The clean stop (SIGTERM): refuse new door actions, wait up to graceMs for doors being unlocked right now to
   * open (or their flow to give up), record what is still in progress in the audit log — the next start's
   * reconciliation finishes it from the boards — then close everything.
   */
  shutdown(graceMs: number): Promise<{ opening: number[]; open: number[] }>;
  close(): Promise<void>;
}

/** How long a stop waits for doors being unlocked; systemd's TimeoutStopSec (deploy/systemd) is longer. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * The endpoint LOCK_PORT names; for 'sim', also the embedded simulator it talks to. A vendor family
 * (LOCK_BOARD) puts the translating adapter in between, so the driver speaks our protocol either way.
 */
export async function endpointFor(
  config: Config,
  logger: Logger = silentLogger(),
): Promise<{ endpoint: Endpoint; cabinet: SimCabinet | null; adapter: { readonly counters: AdapterCounters } | null }> {
  let raw: Endpoint;
  let cabinet: SimCabinet | null = null;
  if (config.lockPort === 'sim') {
    const boards = config.layout.boards;
    const { SimCabinet } = await import('../sim/cabinet.js');
    const sim = new SimCabinet({
      board: config.lockBoard,
      layout: { boards: Math.max(...boards.map((b) => b.addr)), channels: Math.max(...boards.map((b) => b.channels)) },
      polarity: config.doorPolarity,
      baudRate: config.lockBaud,
      protocol: config.simProtocol,
    });
    cabinet = sim;
    raw = streamEndpoint('embedded simulator', () => sim.connectInProcess());
  } else {
    const tcp = parseTcpUrl(config.lockPort);
    // a serial port: its package is loaded now, before the controller listens (loadSerialPort)
    if (!tcp) await loadSerialPort();
    raw = tcp ? tcpEndpoint(tcp.host, tcp.port) : serialEndpoint(config.lockPort, config.lockBaud, undefined, config.reconnectMinMs);
  }
  if (config.lockBoard === 'native') return { endpoint: raw, cabinet, adapter: null };
  const endpoint = vendorEndpoint(raw, {
    codec: vendorCodec(config.lockBoard),
    boards: config.layout.boards,
    pollMs: config.vendorPollMs,
    replyTimeoutMs: config.responseTimeoutMs,
    logger,
  });
  return { endpoint, cabinet, adapter: endpoint };
}

/**
 * The driver's own reply deadline (also for other tools that open the boards, such as the doctor). Through the
 * adapter one command can take a vendor exchange and a read after a missing reply: give it room for both, so the
 * driver does not retransmit too early.
 */
export function driverTimeoutMs(config: Config): number {
  return replyDeadlineMs(config);
}

/**
 * Listens, or fails with a sentence a person can act on (a taken port is the usual case: another controller, or
 * another program, already serves there).
 */
export function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      const where = `${host}:${port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${where} is already in use (is another controller running?); stop it or choose another PORT`
          : err.code === 'EACCES'
            ? `no permission to listen on ${where}; choose a PORT above 1023 or run with the right capability`
            : err.code === 'EADDRNOTAVAIL'
              ? `HOST ${host} is not an address of this machine`
              : `cannot listen on ${where}: ${err.message}`;
      reject(new CabinetError('LISTEN_FAILED', why, { port, host, code: err.code ?? '' }, { cause: err }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * `options.now`: the wall clock of the store (every recorded time); the system clock unless a test gives another (the
 * fault harness starts controllers whose clock is set forward or back, and jumps it while they run).
 */
export async function startController(config: Config, logger: Logger, options: { now?: Clock } = {}): Promise<Controller> {
  // Everything this process creates (database, WAL, SHM, key, backups) is for its own user only.
  process.umask(0o077);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Whether the last run closed this database file cleanly (read before anything opens it): then the check that
  // reads the whole file is left to the night; after a crash or a power cut it runs now, in the background.
  // A database this start creates has no last run and nothing to check yet.
  const newDatabase = !fs.existsSync(path.join(config.dataDir, DB_FILE));
  const cleanStop = takeCleanStopMarker(config.dataDir) || newDatabase;
  // A schema upgrade is preceded by a verified backup; if it cannot be written, the start stops here.
  const store = openStore({
    dataDir: config.dataDir,
    ...(options.now ? { now: options.now } : {}),
    beforeMigrate: (db, from, to) => {
      const b = backupBeforeMigration(db, { dir: config.backupDir, keep: config.backupKeep }, to);
      logger.info({ ns: 'backup', file: b.file, from, to }, 'backup written before the schema upgrade');
    },
  });
  const removePidFile = writePidFile(config.dataDir);
  // Whether the database can record door openings (disk full, read-only, damaged): out of service until it can.
  const storage = new StorageHealth(store.db, config.storageRecheckMs);
  // alarms are kept in the store, so they survive a restart and staff can acknowledge them
  const bus = new EventBus({
    alarms: alarmSink(store.ctx),
    onAlarmStoreError: (err, a) => {
      storage.report(err);
      logger.error(
        { ns: 'alarms', kind: a.kind, err: err instanceof Error ? err.message : String(err) },
        'an alarm could not be stored; shown until restart',
      );
    },
  });
  // constant-time part now; the part that reads the whole file runs in a worker once HTTP answers (below)
  for (const p of storageAccessCheck(store.db, config.dataDir)) storage.declare(p.problem, p.detail);
  storage.start();
  let driver: BoardDriver | null = null;
  let panel: PanelServer | null = null;
  let cabinet: SimCabinet | null = null;
  const listening: Server[] = [];
  try {
    applyLayout(
      store.ctx,
      layoutPlaces(config.layout).map((p) => ({ no: p.compartment, boardAddress: p.addr, channel: p.channel })),
      SYSTEM_ACTOR,
    );
    const initialAdmin = await ensureInitialAdmin(store.ctx);

    const chosen = await endpointFor(config, logger);
    // a QR scanner on a serial port: the same package, loaded before listening too
    if (config.scannerPort && !parseTcpUrl(config.scannerPort)) await loadSerialPort();
    cabinet = chosen.cabinet;
    const drv = new BoardDriver({ ...config, responseTimeoutMs: driverTimeoutMs(config), endpoint: chosen.endpoint, logger });
    driver = drv;
    drv.on('link', (e) => {
      logger.info({ ns: 'board', ...e }, `lock board link ${e.state}`);
      bus.emit('link', e);
    });
    const flows = new CabinetFlows({ store, driver: drv, bus, config, logger, storage });
    // Reconcile with the boards before any door action; again whenever it could not finish.
    let reconciling = false;
    const reconcileWhenOnline = () => {
      if (flows.isReady || reconciling || drv.state !== 'online') return;
      reconciling = true;
      reconcile(flows, { store, driver: drv, bus, config, logger })
        .finally(() => {
          reconciling = false;
        })
        .then((findings) => logger.info({ ns: 'flows', findings: findings.length }, 'start-up reconciliation done'))
        .catch((e: unknown) => {
          storage.report(e);
          logger.error({ ns: 'flows', err: e instanceof Error ? e.message : String(e) }, 'reconciliation could not run');
        });
    };
    // Out of service while the database cannot be written; once it can again, reconcile before any door action.
    storage.onChange((st) => {
      if (st.problem) {
        logger.error({ ns: 'storage', ...st }, 'the database cannot be written: out of service');
        // the detail (SQLite's own message) is in the log line above and on /api/health
        bus.alarm('storage', storageSaid(st.problem));
      } else {
        logger.warn({ ns: 'storage' }, 'the database can be written again: reconciling before door actions');
        flows.markNotReady();
        reconcileWhenOnline();
      }
    });
    drv.on('link', reconcileWhenOnline);
    drv.on('resync', reconcileWhenOnline);

    // HTTP first: from the first second the pages and /api/health answer ("checking the cabinet": door actions
    // are refused until reconciliation is done), whatever the board link and the history are doing.
    let publicUrl = config.publicUrl ?? '';
    const deps: AppDeps = {
      config,
      driver: drv,
      store,
      bus,
      flows,
      logger,
      storage,
      get publicUrl() {
        return publicUrl;
      },
      ...(chosen.adapter ? { boardAdapter: chosen.adapter } : {}),
    };
    const app = createApp(deps);
    const server = await listen(createServer(app), config.port, config.host);
    listening.push(server);
    // The cabinet's own screen: a second listener on 127.0.0.1 only, the one place where a caller is the kiosk
    // without a device key (auth.ts). Nothing phone-facing is ever relayed to it.
    const kioskServer = await listen(createServer(app), config.kioskPort, '127.0.0.1');
    listening.push(kioskServer);
    markKioskListener(kioskServer);
    const live = attachLive(server, deps);
    const kioskLive = attachLive(kioskServer, deps);
    const portOf = (s: Server, fallback: number): number => {
      const a = s.address();
      return typeof a === 'object' && a ? a.port : fallback;
    };
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const url = `http://${shownHost}:${portOf(server, config.port)}`;
    const kioskUrl = `http://127.0.0.1:${portOf(kioskServer, config.kioskPort)}`;
    if (!publicUrl) publicUrl = url;
    // Whether this database file is known sound: closed cleanly last time, or checked whole since. Only then does a
    // clean stop leave the marker; a check the stop interrupts runs again at the next start.
    let verified = cleanStop;
    const stopChecks = new AbortController();
    const damageCheck = (): Promise<void> =>
      storageDamageCheckInWorker(config.dataDir, stopChecks.signal)
        .then((problems) => {
          for (const p of problems) storage.declare(p.problem, p.detail);
          if (problems.length === 0) verified = true;
          logger.info({ ns: 'storage', problems: problems.length }, 'database check done');
        })
        .catch((e: unknown) => {
          if (stopChecks.signal.aborted) return;
          storage.declare('damaged', `the database check could not run: ${e instanceof Error ? e.message : String(e)}`);
        });
    if (!cleanStop) {
      logger.warn({ ns: 'storage' }, 'the last run did not stop cleanly: checking the whole database in the background');
      void damageCheck();
    }
    const nightly = new NightlyDamageCheck(damageCheck);
    nightly.start();

    if (cabinet) {
      const { startPanelServer } = await import('../sim/panel/server.js');
      panel = await startPanelServer(cabinet, { host: '127.0.0.1', port: config.simPanelPort });
    }
    await drv.start();
    reconcileWhenOnline();
    try {
      flows.markOverdue();
    } catch (e) {
      // a full or read-only disk must not stop the start: health says what is wrong
      if (!storage.report(e)) throw e;
    }
    flows.erasePersonalData().catch((e: unknown) => {
      storage.report(e);
      logger.error({ ns: 'flows', err: e instanceof Error ? e.message : String(e) }, 'personal-data erasure failed');
    });
    flows.startJobs();

    // Notifications owed to residents: a webhook (SMS / WeChat gateway) or, by default, the log.
    // With the embedded simulator the log shows pickup codes, so a developer can try a pickup.
    const notifyLog = logger.child({ ns: 'notify' });
    const adapter = config.notifyWebhookUrl
      ? createWebhookAdapter({ url: config.notifyWebhookUrl })
      : createLogAdapter(notifyLog, { revealSecrets: config.lockPort === 'sim' });
    const dispatcher = new NotificationDispatcher({ ctx: store.ctx, adapter, logger: notifyLog });
    dispatcher.start(1000);

    const backups = new BackupSchedule({
      db: store.db,
      dir: config.backupDir,
      keep: config.backupKeep,
      intervalHours: config.backupIntervalHours,
      logger,
    });
    backups.start();

    const scanner = config.scannerPort ? new ScannerInput(scannerEndpoint(config.scannerPort, config.lockBaud), flows, logger) : null;
    await scanner?.start();

    const d = drv;
    const inProgress = () => {
      const all = listCompartments(store.ctx);
      return { opening: all.filter((c) => c.state === 'opening').map((c) => c.no), open: all.filter((c) => c.state === 'open').map((c) => c.no) };
    };
    const controller: Controller = {
      config,
      driver: d,
      flows,
      store,
      bus,
      storage,
      server,
      url,
      kioskUrl,
      initialAdmin,
      sim: cabinet && panel ? { cabinet, panel } : null,
      async shutdown(graceMs) {
        flows.stopDoorActions();
        scanner?.stop();
        const until = performance.now() + graceMs;
        while (inProgress().opening.length > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
        const left = inProgress();
        appendAudit(store.db, Date.now(), { actor: SYSTEM_ACTOR, action: 'controller.stopped', detail: left });
        if (left.opening.length + left.open.length > 0) {
          logger.warn({ ns: 'flows', ...left }, 'stopping with door actions in progress; recorded, the next start finishes them from the boards');
        }
        await controller.close();
        return left;
      },
      async close() {
        await live.close();
        await kioskLive.close();
        for (const s of [server, kioskServer]) {
          await new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeAllConnections();
        }
        flows.stopJobs();
        storage.stop();
        nightly.stop();
        stopChecks.abort();
        await dispatcher.stop();
        await backups.stop();
        scanner?.stop();
        await d.stop();
        await panel?.close();
        await cabinet?.close();
        store.close();
        // closed cleanly, the WAL checkpointed: the next start need not read the whole file
        if (storage.ok && verified) writeCleanStopMarker(config.dataDir);
        removePidFile();
      },
    };
    return controller;
  } catch (e) {
    storage.stop();
    for (const s of listening) await new Promise<void>((resolve) => s.close(() => resolve()));
    await driver?.stop();
    await panel?.close();
    await cabinet?.close();
    store.close();
    removePidFile();
    throw e;
  }
}

/** Exit codes: 1 could not start (may pass: restart later), 2 bad configuration, 3 database newer than this release. */
export const EXIT_CONFIG_INVALID = 2;
export const EXIT_DB_TOO_NEW = 3;

/** The program: configuration from the environment, start, print the addresses, stop on SIGINT/SIGTERM. */
export async function main(options: { now?: Clock } = {}): Promise<Controller> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (isCabinetError(e, 'CONFIG_INVALID')) {
      process.stderr.write(`${e.message}\nSee README.md, "Configuration", for every setting and its range.\n`);
      process.exit(EXIT_CONFIG_INVALID);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  let controller: Controller;
  try {
    controller = await startController(config, logger, options);
  } catch (e) {
    if (isCabinetError(e, 'DB_TOO_NEW')) {
      process.stderr.write(`${say(said('console.db_too_new'))}\n${say(said('console.db_too_new'), 'en')}\nCannot start: ${e.message}\n`);
      process.exit(EXIT_DB_TOO_NEW);
    }
    process.stderr.write(`Cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  // Uncaught errors: logged and alarmed; an SQLite I/O error or a stray exception restarts the process (ADR 0003).
  installProcessPolicy({ logger, bus: controller.bus, storage: controller.storage });
  const lines = [''];
  if (controller.initialAdmin) {
    lines.push(
      say(said('console.first_admin')),
      say(said('console.first_admin'), 'en'),
      `  login: ${controller.initialAdmin.login}   PIN: ${controller.initialAdmin.pin}`,
      '',
    );
  }
  lines.push(
    '帮办柜 controller is running',
    `  Touchscreen:     ${controller.kioskUrl}/kiosk  (this machine only)`,
    `  Staff console:   ${controller.url}/staff`,
    `  Phone pages:     ${controller.config.publicUrl ?? controller.url}/m/submit  (the QR on the touchscreen leads here)`,
    `  Health:          ${controller.url}/api/health`,
    `  Lock board link: ${controller.driver.snapshot().port} (${controller.driver.state})`,
  );
  if (controller.sim) lines.push(`  Simulator panel: ${controller.sim.panel.url}  (open and close doors, put in items, faults)`);
  for (const w of setupWarnings(controller.config, controller.config.port || 3000))
    lines.push('', say(said('setup.note', { text: say(w.said) })), say(said('setup.note', { text: say(w.said, 'en') }), 'en'));
  lines.push('Press Ctrl+C to stop.', '');
  process.stdout.write(lines.join('\n'));

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 5000);
    force.unref();
    void controller.shutdown(SHUTDOWN_GRACE_MS).then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e instanceof Error ? e.message : String(e) }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return controller;
}

if (import.meta.url === `file://${process.argv[1]}` || /controller\/main\.[jt]s$/.test(process.argv[1] ?? '')) {
  void main();
}
