import { describe, expect, it } from 'vitest';
import { WindowLimiter } from './rate-limit.js';

describe('WindowLimiter', () => {
  it('allows `limit` calls per window per key, then says how long to wait', () => {
    let t = 1_000_000;
    const l = new WindowLimiter(3, 60_000, () => t);
    for (let i = 0; i < 3; i++) expect(l.take('a')).toBe(0);
    const wait = l.take('a');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60_000);
    expect(l.take('b')).toBe(0); // another key is not affected
    t += wait;
    expect(l.take('a')).toBe(0);
  });

  it('a wall clock set back or forward never makes a wait longer than one window', () => {
    let t = 400 * 86_400_000; // a clock 400 days fast
    const l = new WindowLimiter(2, 600_000, () => t);
    for (let i = 0; i < 2; i++) expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBeLessThanOrEqual(600_000);
    t -= 400 * 86_400_000; // corrected: a new window, not 400 days of waiting
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(0);
    const wait = l.take('a');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(600_000);
    t += 86_400_000; // set forward a day: the window has ended
    expect(l.take('a')).toBe(0);
  });

  it('forgets keys whose windows have passed, however few there are (bounded memory, no growth with history)', () => {
    let t = 0;
    const l = new WindowLimiter(5, 60_000, () => t);
    for (let i = 0; i < 100; i++) l.take(`10.0.0.${i}`);
    expect(l.size).toBe(100);
    t += 2 * 60_000;
    l.take('10.0.1.1');
    expect(l.size).toBe(1);
  });

  it('never holds more than maxKeys keys; keys beyond share one bucket and are limited together', () => {
    const t = 0;
    const l = new WindowLimiter(5, 60_000, () => t, { maxKeys: 1000 });
    let refused = 0;
    for (let i = 0; i < 20_000; i++) if (l.take(`k${i}`) > 0) refused++;
    expect(l.size).toBeLessThanOrEqual(1001);
    expect(refused).toBeGreaterThan(18_000);
  });
});
