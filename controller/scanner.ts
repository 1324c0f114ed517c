/**
 * A serial QR scanner (SCANNER_PORT): one scan per line, read with the same bounded readline
 * parser as the lock bus, kept open with back-off. Each scan goes to the one place that handles
 * scans (CabinetFlows.scan), exactly like a scan forwarded by the kiosk page.
 */
import type { CabinetFlows } from './flows/cabinet.js';
import type { Logger } from './log.js';
import { parseTcpUrl, serialEndpoint, tcpEndpoint, type Endpoint } from './transport/endpoints.js';
import { KeptLink } from './transport/kept-link.js';

/** Longest scan line accepted, bytes (a QR of a link with a token is well under this). */
export const MAX_SCAN_LINE = 1024;

export function scannerEndpoint(spec: string, baud = 9600): Endpoint {
  const tcp = parseTcpUrl(spec);
  return tcp ? tcpEndpoint(tcp.host, tcp.port) : serialEndpoint(spec, baud);
}

export class ScannerInput {
  private readonly link: KeptLink;
  private readonly log: Logger;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    endpoint: Endpoint,
    private readonly flows: CabinetFlows,
    logger: Logger,
  ) {
    this.log = logger.child({ ns: 'scanner' });
    this.link = new KeptLink({ endpoint, reconnectMinMs: 500, reconnectMaxMs: 10_000, maxLineLength: MAX_SCAN_LINE, logger: this.log });
    this.link.on('line', (line) => this.onLine(line));
    this.link.on('up', () => this.log.info({ port: endpoint.description }, 'scanner connected'));
  }

  start(): Promise<void> {
    return this.link.start();
  }

  stop(): void {
    this.link.stop();
  }

  private onLine(raw: string): void {
    // The parser hands over latin1 (one char per byte); scanners send UTF-8.
    const text = Buffer.from(raw, 'latin1')
      .toString('utf8')
      .replace(/[\r\n]+$/, '')
      .trim();
    if (!text) return;
    // One scan at a time, in the order scanned.
    this.busy = this.busy.then(async () => {
      try {
        const answer = await this.flows.scan(text, 'scanner-1', 'scanner');
        this.log.info({ outcome: answer.code, compartments: answer.compartments }, 'scan handled');
      } catch (e) {
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'scan refused');
      }
    });
  }
}
