/**
 * The cabinet's layout file (LOCK_LAYOUT_FILE): which compartment number, as painted on the door,
 * is wired to which lock of which board. JSON, one entry per board, one per lock:
 *
 *   { "boards": [
 *       { "address": 1, "locks": [1, 2, 3, 4, null, 5, 6, …] },
 *       { "address": 2, "locks": [13, 14, …] } ] }
 *
 * `locks[i]` is the compartment whose door lock i+1 opens, or null where that lock has no door (the
 * screen's column, a spare output). Compartment numbers must be 1..N, each exactly once. Checked
 * at start-up; every problem is named.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { MAX_ADDRESS, MAX_CHANNELS } from '../../firmware-protocol/index.js';
import type { Layout } from '../config.js';

const fileSchema = z.strictObject({
  note: z.string().max(2000).optional(),
  boards: z
    .array(
      z.strictObject({
        address: z.number().int().min(1).max(MAX_ADDRESS),
        locks: z
          .array(
            z
              .number()
              .int()
              .min(1)
              .max(MAX_ADDRESS * MAX_CHANNELS)
              .nullable(),
          )
          .min(1)
          .max(MAX_CHANNELS),
      }),
    )
    .min(1)
    .max(MAX_ADDRESS),
});

/** Parse a layout file's text. Returns the layout, or the problems found (never throws). */
export function parseLayoutFile(text: string): { ok: true; layout: Layout } | { ok: false; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [`not JSON: ${e instanceof Error ? e.message : String(e)}`] };
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) return { ok: false, problems: r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`) };
  const problems: string[] = [];
  const seenBoards = new Set<number>();
  const where = new Map<number, string>();
  const compartments: { compartment: number; addr: number; channel: number }[] = [];
  for (const b of r.data.boards) {
    if (seenBoards.has(b.address)) problems.push(`board ${b.address} is listed twice`);
    seenBoards.add(b.address);
    b.locks.forEach((no, i) => {
      if (no === null) return;
      const here = `board ${b.address} lock ${i + 1}`;
      const before = where.get(no);
      if (before) problems.push(`compartment ${no} appears twice (${before} and ${here})`);
      where.set(no, here);
      compartments.push({ compartment: no, addr: b.address, channel: i + 1 });
    });
  }
  const n = where.size;
  if (n === 0) problems.push('no lock has a door: at least one compartment is needed');
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((no) => !where.has(no));
  if (missing.length > 0) problems.push(`compartments must be numbered 1..${n} without gaps; missing ${missing.slice(0, 10).join(', ')}`);
  if (problems.length > 0) return { ok: false, problems };
  const boards = [...r.data.boards].sort((a, b) => a.address - b.address).map((b) => ({ addr: b.address, channels: b.locks.length }));
  return { ok: true, layout: { boards, compartments } };
}

export function readLayoutFile(path: string): { ok: true; layout: Layout } | { ok: false; problems: string[] } {
  let text: string;
  try {
    const stat = fs.statSync(path);
    if (!stat.isFile()) return { ok: false, problems: ['is not a file'] };
    if (stat.size > 256 * 1024) return { ok: false, problems: ['is larger than 256 KB: not a layout file'] };
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, problems: [`cannot be read: ${e instanceof Error ? e.message : String(e)}`] };
  }
  return parseLayoutFile(text);
}
