import { describe, expect, it } from 'vitest';
import { residentActor, SYSTEM_ACTOR } from '../domain/types.js';
import { MIGRATIONS } from './migrations.js';
import { createRequest, searchRequests, transitionRequest } from './requests.js';
import { createResident, updateResident } from './residents.js';
import { ERASED_NAME, eraseResident } from './retention.js';
import { FakeClock, openTestStore, tempDir, uniqueIdNumber, type TestStore } from './test-support.js';

const NAMES = [
  '王伟',
  '王伟强',
  '李伟',
  '张王伟',
  '王伟伟',
  'Li Wei',
  'LI WEIMIN',
  'Wei Li',
  '欧阳娜娜',
  '欧阳伟',
  '买买提·艾力',
  '𠀀𠀁伟',
  '伟强王伟',
];

/** Residents with the names above, and requests for them in a shuffled order (a fixed one). */
function populate(s: TestStore, perName = 4): { residents: number[]; requests: number[] } {
  const residents = NAMES.map(
    (name, i) =>
      createResident(
        s.ctx,
        {
          name,
          mobile: `139${String(10_000_000 + i).padStart(8, '0')}`,
          idNumber: uniqueIdNumber(500 + i),
          address: { building: '1号楼', unit: '1', room: '101' },
        },
        SYSTEM_ACTOR,
      ).id,
  );
  const requests: number[] = [];
  for (let k = 0; k < perName * residents.length; k++) {
    const rid = residents[(k * 7) % residents.length]!;
    requests.push(createRequest(s.ctx, { residentId: rid, serviceCode: 'residence_certificate' }, residentActor(rid)).request.id);
    s.clock.advance(60_000);
  }
  return { residents, requests };
}

/** What a search must find: every request whose number or resident's name holds the text, or whose mobile is it. */
function oracle(s: TestStore, text: string): number[] {
  const like = `%${text.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const mobile = /^\d{11}$/.test(text.trim()) ? text.trim() : null;
  return s.db
    .prepare<[string, string, string | null], { id: number }>(
      `SELECT q.id FROM requests q JOIN residents p ON p.id = q.resident_id
        WHERE q.number LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\' OR p.mobile = ? ORDER BY q.id DESC`,
    )
    .all(like, like, mobile)
    .map((r) => r.id);
}

/** Every page of a search, as a staff list walks them (`nextBefore` until null). */
function walk(s: TestStore, text: string, limit: number, scanRows?: number): { ids: number[]; calls: number } {
  const ids: number[] = [];
  let before: number | undefined;
  let calls = 0;
  for (;;) {
    calls++;
    const page = searchRequests(s.ctx, { text, limit, ...(scanRows ? { scanRows } : {}), ...(before !== undefined ? { before } : {}) });
    expect(page.requests.length).toBeLessThanOrEqual(limit);
    ids.push(...page.requests.map((r) => r.id));
    if (page.nextBefore === null) return { ids, calls };
    expect(calls).toBeLessThan(1000);
    before = page.nextBefore;
  }
}

const pairsOf = (s: TestStore, requestId: number): string[] =>
  s.db
    .prepare<[number], { pair: string }>('SELECT pair FROM request_name_pairs WHERE request_id = ? ORDER BY pair')
    .all(requestId)
    .map((r) => r.pair);

describe('search by name, mobile or number (searchRequests)', () => {
  it('finds what a match over every request finds, newest first, page after page', () => {
    const s = openTestStore();
    const { requests } = populate(s);
    const numberOf = (id: number) => s.db.prepare<[number], { number: string }>('SELECT number FROM requests WHERE id = ?').get(id)!.number;
    const terms = [
      '王伟',
      '伟王',
      '王伟强',
      '伟伟',
      '伟',
      '欧阳',
      '阳娜娜',
      'li wei',
      'WEI',
      'ei L',
      '·艾',
      '𠀁伟',
      '无此人',
      ' 王伟 ',
      '王%',
      '13910000003',
      '1391000000',
      numberOf(requests[5]!),
      numberOf(requests[5]!).slice(3, 11),
      numberOf(requests[5]!).slice(-6),
      'bb-',
    ];
    for (const term of terms) {
      const want = oracle(s, term);
      for (const [limit, scanRows] of [
        [100, undefined],
        [3, undefined],
        [2, 3],
        [1, 1],
      ] as const) {
        const got = walk(s, term, limit, scanRows);
        expect(got.ids, `${term} limit ${limit} scanRows ${scanRows}`).toEqual(want);
      }
    }
    expect(oracle(s, '王伟').length).toBeGreaterThan(4);
    s.close();
  });

  it('a name search reads pairs of characters, not the whole history: a bounded number of them per call', () => {
    const s = openTestStore();
    populate(s);
    // '伟强' is rarer than '王伟': with scanRows 1 each call looks at one request of the pair and says where to go on
    const want = oracle(s, '王伟强');
    expect(want.length).toBe(4);
    const got = walk(s, '王伟强', 100, 1);
    expect(got.ids).toEqual(want);
    const driving = s.db.prepare(`SELECT count(*) AS n FROM request_name_pairs WHERE pair = '伟强'`).get() as { n: number };
    expect(driving.n).toBe(8); // '王伟强' and '伟强王伟' (which holds both pairs, not the name)
    expect(got.calls).toBeLessThanOrEqual(driving.n + 1);
    s.close();
  });

  it('keeps up with a changed name, a request moved to another resident, and erasure (nothing of the name is left)', () => {
    const s = openTestStore();
    const { residents } = populate(s, 2);
    const [wangWei, , liWei] = residents;
    const hers = oracle(s, '李伟');
    expect(hers.length).toBeGreaterThan(0);

    updateResident(s.ctx, liWei!, { name: '李娟' }, SYSTEM_ACTOR);
    expect(walk(s, '李伟', 100).ids).toEqual([]);
    expect(walk(s, '李娟', 100).ids).toEqual(hers);
    for (const id of hers) expect(pairsOf(s, id)).toEqual(['李娟']);

    s.db.prepare('UPDATE requests SET resident_id = ? WHERE id = ?').run(wangWei!, hers[0]!);
    expect(pairsOf(s, hers[0]!)).toEqual(['王伟']);
    expect(walk(s, '李娟', 100).ids).toEqual(hers.slice(1));
    expect(walk(s, '王伟', 100).ids).toEqual(oracle(s, '王伟'));
    expect(walk(s, '王伟', 100).ids).toContain(hers[0]!);

    for (const id of hers.slice(1)) transitionRequest(s.ctx, { requestId: id, event: 'cancel', actor: residentActor(liWei!) });
    expect(eraseResident(s.ctx, liWei!)).toBe(true);
    for (const id of hers.slice(1)) expect(pairsOf(s, id)).toEqual([]);
    expect(walk(s, '李娟', 100).ids).toEqual([]);
    expect(s.db.prepare(`SELECT count(*) AS n FROM request_name_pairs WHERE pair IN ('李娟', '已删', '删除')`).get()).toEqual({ n: 0 });
    // the erased placeholder is not a name: it is not searched as one
    expect(walk(s, ERASED_NAME, 100).ids).toEqual([]);

    s.db.prepare('DELETE FROM requests WHERE id = ?').run(hers[0]!);
    expect(pairsOf(s, hers[0]!)).toEqual([]);
    s.close();
  });

  it('the migration fills the pairs of an existing history, leaving out erased names', () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const version = MIGRATIONS.findIndex((m) => m.name.startsWith('search by name'));
    expect(version).toBeGreaterThan(0);
    const old = openTestStore({ dir, clock, migrations: MIGRATIONS.slice(0, version) });
    const insResident = old.db.prepare(`INSERT INTO residents (id, name, mobile, qr_id, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)`);
    const insRequest = old.db.prepare(
      `INSERT INTO requests (id, number, status_token_hash, resident_id, service_code, state, created_at, updated_at, state_changed_at)
         VALUES (?, ?, randomblob(32), ?, 'residence_certificate', 'submitted', 0, 0, 0)`,
    );
    const names = ['王伟', '张王伟强', ERASED_NAME, 'Li Wei', '王'];
    names.forEach((name, i) => insResident.run(i + 1, name, `1380000000${i}`, `q${i}`));
    for (let id = 1; id <= 15; id++) insRequest.run(id, `BB-20250101-${String(id).padStart(4, '0')}`, 1 + (id % names.length));
    old.close();

    const s = openTestStore({ dir, clock });
    const all = s.db
      .prepare<[], { pair: string; request_id: number }>('SELECT pair, request_id FROM request_name_pairs ORDER BY pair, request_id')
      .all();
    const want: { pair: string; request_id: number }[] = [];
    for (let id = 1; id <= 15; id++) {
      const name = names[id % names.length]!;
      if (name === ERASED_NAME) continue;
      const chars = [...name.toLowerCase()];
      for (const pair of new Set(chars.slice(1).map((c, i) => chars[i]! + c))) want.push({ pair, request_id: id });
    }
    want.sort((a, b) => (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : a.request_id - b.request_id));
    expect(all).toEqual(want);
    for (const term of ['王伟', '伟强', 'li w']) expect(walk(s, term, 2).ids).toEqual(oracle(s, term));
    s.close();
  });
});
