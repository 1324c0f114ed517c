/**
 * The load generator of `npm run bench` (section "load"), in its own process so that its work does not share the
 * controller's event loop: phone submissions from many client addresses (127.0.x.y, each under the per-address
 * limit), `concurrency` at a time, for `seconds`. Prints one JSON line: latencies and answers.
 *
 *   node --import tsx test/bench/load-client.ts <base url> <seconds> <concurrency> <first index>
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { idCheckDigit } from '../../controller/domain/validation.js';

export interface LoadResult {
  readonly lat: number[];
  readonly accepted: number;
  readonly refused: number;
  readonly errors: number;
  readonly sample: string;
  readonly next: number;
  /** how long the load ran, ms */
  readonly ms: number;
}

/** A valid, distinct ID number for each submission: birth date and sequence from i. */
export function idFor(i: number): string {
  const day = String(1 + (i % 28)).padStart(2, '0');
  const month = String(1 + (Math.floor(i / 28) % 12)).padStart(2, '0');
  const year = 1950 + (Math.floor(i / 336) % 50);
  const body = `110101${year}${month}${day}${String(Math.floor(i / 16_800) % 1000).padStart(3, '0')}`;
  return body + idCheckDigit(body);
}

/** Each address submits at most 19 (the limit is 20 per 10 minutes). */
const addr = (i: number) => {
  const a = Math.floor(i / 19);
  return `127.0.${1 + Math.floor(a / 250)}.${1 + (a % 250)}`;
};

function post(url: string, body: unknown, localAddress: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length }, localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export async function runLoad(base: string, seconds: number, concurrency: number, first: number): Promise<LoadResult> {
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  const lat: number[] = [];
  let seq = first;
  let accepted = 0;
  let refused = 0;
  let errors = 0;
  let sample = '';
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < stopAt) {
        const i = seq++;
        const t = performance.now();
        try {
          const r = await post(
            `${base}/api/requests`,
            {
              name: '张三',
              mobile: `139${String(i).padStart(8, '0')}`,
              serviceCode: 'elderly_benefit',
              idNumber: idFor(i),
              address: { building: '1号楼', unit: '1', room: '101' },
            },
            addr(i),
          );
          if (r.status === 201) accepted++;
          else if (r.status === 429) refused++;
          else errors++, (sample = `${r.status} ${r.body.slice(0, 120)}`);
        } catch (e) {
          errors++;
          sample = String(e);
        }
        lat.push(performance.now() - t);
      }
    }),
  );
  return { lat, accepted, refused, errors, sample, next: seq, ms: performance.now() - t0 };
}

if (process.argv[1]?.endsWith('load-client.ts')) {
  const [base, seconds, concurrency, first] = process.argv.slice(2);
  // the parent starts its timed pickups on this line
  process.stdout.write('go\n');
  const r = await runLoad(base!, Number(seconds), Number(concurrency), Number(first ?? 0));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
