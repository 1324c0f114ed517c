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
   * the longest late tick less the time the main thread spent waiting for a core meanwhile (runnable but not
   * running: /proc/thread-self/schedstat) — what the controller itself held the loop for, computing or blocked in
   * a system call such as an fsync. On a machine with more runnable processes than cores a tick is also late while
   * the process waits its turn. Where schedstat cannot be read: the lateness capped by the process's CPU time.
   */
  maxBusyStallMs: number | null;
  /** late ticks (more than 20 ms late): [ms after listening, ms late, ms of it waiting for a core], the 20 worst */
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
/** ms the main thread has waited on a run queue (runnable, no core free); null where the kernel does not say */
function waitedMs(): number | null {
  try {
    const f = fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return Number(f[1]) / 1e6;
  } catch {
    return null;
  }
}
const histogram = monitorEventLoopDelay({ resolution: 10 });

function onListening(): void {
  if (listenAt !== null) return;
  listenAt = performance.now();
  histogram.enable();
  let last = listenAt;
  let lastCpu = cpuMs();
  let lastWaited = waitedMs();
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = cpuMs();
    const waited = waitedMs();
    const late = now - last - TICK;
    const waiting = waited !== null && lastWaited !== null ? waited - lastWaited : null;
    const own = waiting !== null ? late - waiting : Math.min(late, cpu - lastCpu);
    maxBusy = Math.max(maxBusy, own);
    if (late > 20) {
      stalls.push([Math.round(last - (listenAt ?? 0)), Math.round(late), Math.round(waiting ?? late - own)]);
      if (stalls.length > 200) stalls = stalls.sort((a, b) => b[1] - a[1]).slice(0, 20);
    }
    if (firstAnswerAt !== null && last >= firstAnswerAt) maxAfterFirst = Math.max(maxAfterFirst, late);
    last = now;
    lastCpu = cpu;
    lastWaited = waited;
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
