/**
 * Emits queued bytes at a fixed byte rate (baud/10 bytes per second for 8N1), in small chunks,
 * so that timings over a pty or TCP look like a real RS-485 wire. A pty passes bytes at memory
 * speed; without pacing a 9600 Bd round trip takes well under a millisecond instead of ~55 ms.
 */
const TICK_MS = 2;

export class Pacer {
  private queue: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private credit = 0;
  private last = 0;

  constructor(
    private readonly write: (chunk: Buffer) => void,
    private readonly bytesPerMs: () => number,
  ) {}

  /** True while bytes are waiting: later writes must queue behind them to keep the order. */
  get busy(): boolean {
    return this.queue.length > 0;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    if (!this.timer) {
      this.last = performance.now();
      this.credit = 0;
      this.timer = setInterval(() => this.tick(), TICK_MS);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.queue = [];
  }

  private tick(): void {
    const now = performance.now();
    this.credit += (now - this.last) * this.bytesPerMs();
    this.last = now;
    let n = Math.floor(this.credit);
    if (n <= 0) return;
    this.credit -= n;
    const parts: Buffer[] = [];
    while (n > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.length <= n) {
        parts.push(head);
        this.queue.shift();
        n -= head.length;
      } else {
        parts.push(head.subarray(0, n));
        this.queue[0] = head.subarray(n);
        n = 0;
      }
    }
    if (this.queue.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }
}
