/**
 * A small in-memory limiter for public endpoints where the database counters do not fit (submitting a
 * request is not a guess at a secret): at most `limit` calls per key in each fixed window of `windowMs`. It
 * forgets on restart, which is acceptable for spam control.
 *
 * Bounded by construction: the counts of one window live in one map that is dropped whole when the window ends
 * (nothing is scanned, ever), and a window holds at most `maxKeys` keys; calls under further keys share one
 * overflow bucket, so a flood of new addresses is limited together instead of growing memory. Every call is
 * O(1) whatever the history.
 */
const OVERFLOW = '\u0000overflow';

export class WindowLimiter {
  private counts = new Map<string, number>();
  private windowStart: number | null = null;
  private readonly maxKeys: number;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    /** a monotonic clock (performance.now), so that setting the wall clock never moves a window */
    private readonly now: () => number = () => performance.now(),
    opts: { maxKeys?: number } = {},
  ) {
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Keys counted in the current window (the overflow bucket included). */
  get size(): number {
    return this.counts.size;
  }

  /** Counts a call; returns 0 when allowed, else ms until the key may call again. */
  take(key: string): number {
    const now = this.now();
    // a clock set back starts a new window rather than stretching this one
    if (this.windowStart === null || now < this.windowStart || now - this.windowStart >= this.windowMs) {
      this.windowStart = this.windowStart === null || now < this.windowStart ? now : now - ((now - this.windowStart) % this.windowMs);
      this.counts = new Map();
    }
    const k = this.counts.has(key) || this.counts.size < this.maxKeys ? key : OVERFLOW;
    const count = this.counts.get(k) ?? 0;
    if (count >= this.limit) return Math.max(1, this.windowStart + this.windowMs - now);
    this.counts.set(k, count + 1);
    return 0;
  }
}
