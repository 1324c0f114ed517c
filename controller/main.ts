/**
 * `npm start`: the controller process. With no configuration it runs against the embedded
 * simulated cabinet (and serves the simulator's developer panel), and prints its URLs.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import { SimCabinet } from '../sim/cabinet.js';
import { startPanelServer, type PanelServer } from '../sim/panel/server.js';
import { BoardDriver } from './board/driver.js';
import { loadConfig, type Config } from './config.js';
import { isCabinetError } from './errors.js';
import { createApp } from './http/app.js';
import { createLogger, type Logger } from './log.js';
import { parseTcpUrl, serialEndpoint, streamEndpoint, tcpEndpoint, type Endpoint } from './transport/endpoints.js';

export interface Controller {
  config: Config;
  driver: BoardDriver;
  server: Server;
  url: string;
  sim: { cabinet: SimCabinet; panel: PanelServer } | null;
  close(): Promise<void>;
}

/** The endpoint LOCK_PORT names; for 'sim', also the embedded simulator it talks to. */
function endpointFor(config: Config): { endpoint: Endpoint; cabinet: SimCabinet | null } {
  if (config.lockPort === 'sim') {
    const cabinet = new SimCabinet({
      layout: { boards: config.layout.boards.length, channels: config.layout.boards[0]!.channels },
      polarity: config.doorPolarity,
      baudRate: config.lockBaud,
    });
    return { endpoint: streamEndpoint('embedded simulator', () => cabinet.connectInProcess()), cabinet };
  }
  const tcp = parseTcpUrl(config.lockPort);
  if (tcp) return { endpoint: tcpEndpoint(tcp.host, tcp.port), cabinet: null };
  return { endpoint: serialEndpoint(config.lockPort, config.lockBaud), cabinet: null };
}

export async function startController(config: Config, logger: Logger): Promise<Controller> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const { endpoint, cabinet } = endpointFor(config);
  const driver = new BoardDriver({ ...config, endpoint, logger });
  driver.on('link', (e) => logger.info({ ns: 'board', ...e }, `lock board link ${e.state}`));

  let panel: PanelServer | null = null;
  if (cabinet) panel = await startPanelServer(cabinet, { host: '127.0.0.1', port: config.simPanelPort });
  await driver.start();

  const app = createApp({ driver });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${shownHost}:${port}`;

  return {
    config, driver, server, url,
    sim: cabinet && panel ? { cabinet, panel } : null,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await driver.stop();
      await panel?.close();
      await cabinet?.close();
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (isCabinetError(e, 'CONFIG_INVALID')) {
      process.stderr.write(`${e.message}\nSee README.md, "Configuration", for every setting and its range.\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  let controller: Controller;
  try {
    controller = await startController(config, logger);
  } catch (e) {
    process.stderr.write(`Cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  const lines = [
    '',
    '帮办柜 controller is running',
    `  Health:          ${controller.url}/api/health`,
    `  Lock board link: ${controller.driver.snapshot().port} (${controller.driver.state})`,
  ];
  if (controller.sim) lines.push(`  Simulator panel: ${controller.sim.panel.url}  (open and close doors, put in items, faults)`);
  lines.push('Press Ctrl+C to stop.', '');
  process.stdout.write(lines.join('\n'));

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    void controller.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('controller/main.ts')) {
  void main();
}
