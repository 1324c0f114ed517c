/**
 * Loaded ahead of the controller by the start-up bench (`node --import <this, compiled>`), never by the product:
 * measures, inside the controller process, how long its event loop stalls once it can answer — from the moment its
 * first HTTP server listens — and when it first answered an HTTP request. On exit it writes what it saw as JSON to
 * LOOP_PROBE_OUT.
 *
 * Two measures of the same thing: monitorEventLoopDelay (libuv's own histogram, 10 ms resolution) for the
 * largest delay, and a 5 ms timer that notes each late tick (how late, how long after listening), so a stall can
 * be placed in the start-up. Times are ms since the process started (performance.now()).
 */
import fs from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface LoopProbeReport {
  /** ms after the process started at which the first HTTP server listened */
  listenAt: number | null;
  /** ms after the process started at which the first HTTP answer was written out */
  firstAnswerAt: number | null;
  /** the longest event-loop delay from listening on (monitorEventLoopDelay), ms */
  maxDelayMs: number | null;
  /** the longest late tick from the first answer on, ms */
  maxAfterFirstAnswerMs: number | null;
  /**
   * the longest late tick during which the process was running, not waiting for a core: the lateness capped by
   * the CPU time the process used meanwhile (on a machine with more runnable processes than cores a tick is also
   * late while the process waits its turn), ms
   */
  maxBusyStallMs: number | null;
  /** late ticks (more than 20 ms late): [ms after listening, ms late, CPU ms used meanwhile], the 20 worst */
  stalls: [number, number, number][];
}

const out = process.env.LOOP_PROBE_OUT;
const TICK = 5;
let listenAt: number | null = null;
let firstAnswerAt: number | null = null;
let maxAfterFirst = 0;
let maxBusy = 0;
let stalls: [number, number, number][] = [];
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const histogram = monitorEventLoopDelay({ resolution: 10 });

function onListening(): void {
  if (listenAt !== null) return;
  listenAt = performance.now();
  histogram.enable();
  let last = listenAt;
  let lastCpu = cpuMs();
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    const late = now - last - TICK;
    const busy = Math.min(late, cpu - lastCpu);
    maxBusy = Math.max(maxBusy, busy);
    if (late > 20) {
      stalls.push([Math.round(last - (listenAt ?? 0)), Math.round(late), Math.round(cpu - lastCpu)]);
      if (stalls.length > 200) stalls = stalls.sort((a, b) => b[1] - a[1]).slice(0, 20);
    }
    if (firstAnswerAt !== null && last >= firstAnswerAt) maxAfterFirst = Math.max(maxAfterFirst, late);
    last = now;
    lastCpu = cpu;
  }, TICK);
  timer.unref();
}

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (this: http.Server, ...args: unknown[]) {
  this.once('listening', onListening);
  this.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (firstAnswerAt === null) res.once('finish', () => (firstAnswerAt ??= performance.now()));
  });
  return (listen as (...a: unknown[]) => http.Server).apply(this, args);
} as typeof listen;

process.on('exit', () => {
  if (!out) return;
  const report: LoopProbeReport = {
    listenAt,
    firstAnswerAt,
    maxDelayMs: listenAt === null ? null : histogram.max / 1e6,
    maxAfterFirstAnswerMs: firstAnswerAt === null ? null : maxAfterFirst,
    maxBusyStallMs: listenAt === null ? null : maxBusy,
    stalls: stalls.sort((a, b) => b[1] - a[1]).slice(0, 20),
  };
  fs.writeFileSync(out, JSON.stringify(report));
});
