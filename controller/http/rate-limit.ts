/**
 * A small in-memory limiter for public endpoints where the database counters do not fit (submitting a
 * request is not a guess at a secret): at most `limit` calls per `windowMs` per key. It forgets on restart,
 * which is acceptable for spam control. Keys are socket addresses: behind a reverse proxy every phone shares
 * one address, so keep the limit generous (X-Forwarded-For is not trusted).
 */
export class WindowLimiter {
  private readonly hits = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: number, private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /** Counts a call; returns 0 when allowed, else ms until the key may call again. */
  take(key: string): number {
    const now = this.now();
    if (this.hits.size > 10_000) for (const [k, v] of this.hits) if (now - v.start >= this.windowMs) this.hits.delete(k);
    const h = this.hits.get(key);
    if (!h || now - h.start >= this.windowMs) {
      this.hits.set(key, { start: now, count: 1 });
      return 0;
    }
    if (h.count >= this.limit) return h.start + this.windowMs - now;
    h.count++;
    return 0;
  }
}
