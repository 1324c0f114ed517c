import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimCabinet } from '../../sim/cabinet.js';
import type { SimOptions } from '../../sim/config.js';
import { openStore } from '../store/index.js';
import { tempDir } from '../store/test-support.js';
import { streamEndpoint } from '../transport/endpoints.js';
import { backupDatabase } from './backup.js';
import { exitCode, formatFindings, runDoctor, type DoctorDeps, type Finding } from './doctor.js';

const GB = 1024 ** 3;
const cabinets: SimCabinet[] = [];
afterEach(async () => {
  while (cabinets.length) await cabinets.pop()!.close();
});

/** A data directory as the controller leaves it (database, key, a fresh backup). */
async function installed(): Promise<string> {
  const dir = path.join(tempDir(), 'data');
  const s = openStore({ dataDir: dir });
  await backupDatabase(s.db, { dir: path.join(dir, 'backups'), keep: 3 });
  s.close();
  return dir;
}

/** A healthy cabinet's surroundings; each test breaks one thing. */
function deps(dataDir: string, over: Partial<DoctorDeps> & { sim?: SimOptions; env?: Record<string, string> } = {}): DoctorDeps {
  const { sim, env, ...rest } = over;
  return {
    env: {
      DATA_DIR: dataDir,
      LOCK_PORT: 'tcp://127.0.0.1:9',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'http://192.168.1.20:3000',
      LOCK_RESPONSE_TIMEOUT_MS: '100',
      LOCK_RETRIES: '0',
      LOCK_POLL_MS: '200',
      ...env,
    },
    freeBytes: () => 20 * GB,
    unitState: () => 'active',
    controllerHealth: async () => null,
    reachable: async () => true,
    boardWaitMs: 1500,
    endpoint: async () => {
      const cabinet = new SimCabinet(sim);
      cabinets.push(cabinet);
      return { endpoint: streamEndpoint('simulated cabinet', () => cabinet.connectInProcess()), close: async () => {} };
    },
    ...rest,
  };
}

const byCheck = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);
const problems = (findings: Finding[]) => findings.filter((f) => f.level === 'problem').map((f) => f.check);

describe('doctor', () => {
  it('a healthy cabinet: every finding ok, exit 0, in Chinese and English', async () => {
    const findings = await runDoctor(deps(await installed()));
    expect(
      findings.filter((f) => f.level !== 'ok'),
      formatFindings(findings),
    ).toEqual([]);
    expect(exitCode(findings)).toBe(0);
    expect(findings.map((f) => f.check)).toEqual(
      expect.arrayContaining([
        'config',
        'data-dir',
        'key-file',
        'database',
        'schema',
        'disk',
        'clock',
        'board',
        'doors',
        'public-url',
        'kiosk',
        'backup',
      ]),
    );
    expect(byCheck(findings, 'board')[0]!.en).toContain('24 channels');
    for (const f of findings) expect(f.zh).toMatch(/[\u4e00-\u9fff]/);
    expect(formatFindings(findings)).toContain('all ok (exit 0)');
  });

  it('a silent board is a problem, exit 2', async () => {
    const findings = await runDoctor(deps(await installed(), { sim: { faults: { dropToController: 1 } } }));
    expect(problems(findings)).toEqual(['board']);
    expect(byCheck(findings, 'board')[0]!.en).toMatch(/board 1 does not answer/);
    expect(exitCode(findings)).toBe(2);
  });

  it('a board with fewer channels than the layout is a problem naming LOCK_LAYOUT; more is a warning', async () => {
    const fewer = await runDoctor(deps(await installed(), { sim: { layout: '1x12' } }));
    expect(problems(fewer)).toEqual(['board']);
    expect(byCheck(fewer, 'board')[0]!.en).toMatch(/does not match the layout.*12 channels/);
    expect(byCheck(fewer, 'board')[0]!.fix?.en).toContain('LOCK_LAYOUT');
    const more = await runDoctor(deps(await installed(), { sim: { layout: '1x32' } }));
    expect(exitCode(more)).toBe(1);
    expect(byCheck(more, 'board')[0]).toMatchObject({ level: 'warning', en: 'board 1 has 32 channels; the layout uses 24' });
  });

  it('loose modes of the data directory and the key file are problems that say which chmod to run', async () => {
    const dir = await installed();
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, 'server.key'), 0o644);
    const findings = await runDoctor(deps(dir));
    expect(problems(findings)).toEqual(['data-dir', 'key-file']);
    expect(byCheck(findings, 'data-dir')[0]!.fix?.en).toBe(`run: chmod 700 ${dir}`);
    expect(byCheck(findings, 'key-file')[0]!.fix?.en).toBe(`run: chmod 600 ${path.join(dir, 'server.key')}`);
  });

  it('a serial device that is not there is a problem that says where to look; the board is not tried', async () => {
    let tried = false;
    const findings = await runDoctor(
      deps(await installed(), {
        env: { LOCK_PORT: '/dev/ttyNOSUCH0' },
        endpoint: async () => {
          tried = true;
          throw new Error('not expected');
        },
      }),
    );
    expect(problems(findings)).toEqual(['serial']);
    expect(byCheck(findings, 'serial')[0]!.fix?.en).toContain('/dev/serial/by-id/');
    expect(tried).toBe(false);
  });

  it('a link that never comes up says which port and why', async () => {
    const findings = await runDoctor(
      deps(await installed(), {
        env: { LOCK_PORT: 'tcp://127.0.0.1:1' },
        endpoint: async (config) => {
          const { tcpEndpoint } = await import('../transport/endpoints.js');
          return {
            endpoint: tcpEndpoint('127.0.0.1', 1),
            close: async () => {
              void config;
            },
          };
        },
      }),
    );
    expect(problems(findings)).toEqual(['board']);
    expect(byCheck(findings, 'board')[0]!.en).toMatch(/^cannot reach the lock board at tcp:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('a full disk is a problem, a nearly full one a warning', async () => {
    const dir = await installed();
    const full = await runDoctor(deps(dir, { freeBytes: () => 20 * 1024 * 1024 }));
    expect(problems(full)).toEqual(['disk']);
    expect(byCheck(full, 'disk')[0]!.en).toContain('only 20 MB free');
    const low = await runDoctor(deps(dir, { freeBytes: () => 300 * 1024 * 1024 }));
    expect(exitCode(low)).toBe(1);
    expect(byCheck(low, 'disk')[0]!.level).toBe('warning');
  });

  it('a clock in the past — before this release, or before the newest record — is a problem', async () => {
    const dir = await installed();
    const past = await runDoctor(deps(dir, { now: () => new Date('2020-01-01T08:00:00Z') }));
    expect(problems(past)).toEqual(['clock']);
    expect(byCheck(past, 'clock')[0]!.fix?.en).toContain('timedatectl');
    expect(byCheck(past, 'backup')[0]).toMatchObject({ level: 'warning' });
    expect(byCheck(past, 'backup')[0]!.en).toContain('dated after now');
    const back = await runDoctor(deps(dir, { now: () => new Date(Date.now() - 3 * 3_600_000) }));
    expect(problems(back)).toEqual(['clock']);
    expect(byCheck(back, 'clock')[0]!.en).toContain('went back');
  });

  it('names the rest: invalid configuration, an open door, a coil fault, PUBLIC_URL on loopback, the touchscreen down, an old backup', async () => {
    const bad = await runDoctor(deps(await installed(), { env: { LOCK_BAUD: '4800' } }));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ check: 'config', level: 'problem' });
    expect(bad[0]!.en).toContain('LOCK_BAUD');

    const dir = await installed();
    const findings = await runDoctor(
      deps(dir, {
        sim: { initial: { openDoors: [5] }, faults: { compartments: [{ compartment: 7, coilFault: 'COIL_OPEN' }] } },
        env: { PUBLIC_URL: 'http://127.0.0.1:3000' },
        unitState: () => 'failed',
        now: () => new Date(Date.now() + 9 * 24 * 3_600_000),
      }),
    );
    const doors = byCheck(findings, 'doors');
    expect(doors.find((f) => f.level === 'warning')?.en).toBe('door 5 open');
    expect(doors.find((f) => f.level === 'problem')?.en).toContain('7 (COIL_OPEN)');
    expect(byCheck(findings, 'public-url')[0]).toMatchObject({ level: 'problem' });
    expect(byCheck(findings, 'kiosk')[0]).toMatchObject({ level: 'problem', en: 'the touchscreen service is not running (failed)' });
    expect(byCheck(findings, 'backup')[0]).toMatchObject({ level: 'problem' });
  });

  it('--test-doors opens each lock in turn and names the one whose door did not open', async () => {
    const seen: string[] = [];
    const findings = await runDoctor(
      deps(await installed(), {
        env: { LOCK_LAYOUT: '1x4', DOOR_OPEN_TIMEOUT_MS: '1000' },
        sim: { layout: '1x4', autoCloseMs: 50, faults: { compartments: [{ compartment: 3, jammed: true }] } },
        testDoors: true,
        doorCloseWaitMs: 2000,
        onDoorTest: (n, phase) => seen.push(`${n}:${phase}`),
      }),
    );
    expect(seen).toEqual(['1:unlocking', '1:opened', '2:unlocking', '2:opened', '3:unlocking', '4:unlocking', '4:opened']);
    const test = byCheck(findings, 'door-test');
    expect(test).toHaveLength(1);
    expect(test[0]).toMatchObject({ level: 'problem' });
    expect(test[0]!.en).toMatch(/^compartments 3: the lock was pulsed/);
  });

  it('reads the boards from the running controller instead of opening its port', async () => {
    let opened = false;
    const findings = await runDoctor(
      deps(await installed(), {
        endpoint: async () => {
          opened = true;
          throw new Error('must not open the port');
        },
        controllerHealth: async () => ({
          source: 'controller',
          link: 'online',
          reasons: new Map(),
          boards: [{ addr: 1, online: true, firmware: 'X-2', channels: 24 }],
          compartments: Array.from({ length: 24 }, (_, i) => ({
            compartment: i + 1,
            door: 'closed' as const,
            item: 'absent' as const,
            fault: 'NONE' as const,
          })),
        }),
      }),
    );
    expect(opened).toBe(false);
    expect(exitCode(findings)).toBe(0);
    expect(byCheck(findings, 'controller')[0]!.level).toBe('ok');
  });
});
