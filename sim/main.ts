/**
 * `npm run sim -- --listen tcp://127.0.0.1:7001` (or `--listen /tmp/ttyB` for a socat pty).
 * Starts the simulated cabinet, its links and the developer panel; prints where they are;
 * closes cleanly on SIGINT/SIGTERM. Bad options: a clear message and exit code 2.
 */
import { SimCabinet } from './cabinet.js';
import { formatAddress, parseCli, USAGE, type CliOptions } from './cli-options.js';
import { startPanelServer, type PanelServer } from './panel/server.js';

async function run(o: CliOptions): Promise<void> {
  const cabinet = new SimCabinet({
    board: o.board,
    protocol: o.protocol,
    layout: o.layout,
    polarity: o.polarity,
    baudRate: o.baudRate,
    autoCloseMs: o.autoCloseMs,
    ...(o.springMs !== null ? { springMs: o.springMs } : {}),
    seed: o.seed,
    faults: { drop: o.drop, corrupt: o.corrupt, delayMs: o.delayMs, pacing: o.pacing },
  });
  cabinet.on('warning', (m) => console.error(`sim: warning: ${m}`));
  if (o.logFrames) {
    cabinet.on('frame', (f) => {
      console.log(
        `${new Date(f.at).toISOString()} ${f.dir === 'in' ? '→' : '←'} ${f.link} ${f.fate.padEnd(11)} ${JSON.stringify(f.text)}${f.note ? ` (${f.note})` : ''}`,
      );
    });
  }
  cabinet.on('scan', (t) => console.log(`sim: scan ${JSON.stringify(t)}`));

  let panel: PanelServer | null = null;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`sim: ${signal}, closing`);
    const force = setTimeout(() => process.exit(1), 3000);
    force.unref();
    await panel?.close();
    await cabinet.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const layoutText = `${o.layout.boards}x${o.layout.channels}`;
  console.log(
    `sim: cabinet ${layoutText} (${cabinet.compartmentCount} compartments, boards 1..${o.layout.boards}), ${o.board === 'native' ? 'our protocol' : `${o.board} boards`}, polarity ${o.polarity}, ${o.baudRate} Bd${o.pacing ? ' paced' : ''}`,
  );
  for (const a of o.listen) {
    if (a.kind === 'tcp') {
      const bound = await cabinet.listenTcp(a.host, a.port);
      console.log(`sim: lock bus on ${formatAddress({ kind: 'tcp', ...bound })}`);
    } else {
      cabinet.openSerial(a.path, o.baudRate);
      console.log(`sim: lock bus on serial ${a.path} @${o.baudRate} (retried until it exists)`);
    }
  }
  if (o.scanner) {
    if (o.scanner.kind === 'tcp') {
      const bound = await cabinet.listenScannerTcp(o.scanner.host, o.scanner.port);
      console.log(`sim: QR scanner on ${formatAddress({ kind: 'tcp', ...bound })}`);
    } else {
      cabinet.openScannerSerial(o.scanner.path);
      console.log(`sim: QR scanner on serial ${o.scanner.path}`);
    }
  }
  if (o.panel) {
    panel = await startPanelServer(cabinet, o.panel);
    console.log(`sim: panel 面板 ${panel.url}`);
  }
}

const parsed = parseCli(process.argv.slice(2));
if (!parsed.ok) {
  if (parsed.help) {
    console.log(USAGE);
    process.exit(0);
  }
  console.error(`sim: ${parsed.error}\n\n${USAGE}`);
  process.exit(2);
}
run(parsed.options).catch((e: unknown) => {
  console.error(`sim: cannot start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
