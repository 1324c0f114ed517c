import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig } from './config.js';
import { isCabinetError } from './errors.js';

describe('loadConfig', () => {
  it('gives documented defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.lockPort).toBe('sim');
    expect(c.lockBaud).toBe(9600);
    expect(c.layout.boards).toEqual([{ addr: 1, channels: 24 }]);
    expect(c.doorPolarity).toBe('nc');
    expect(c.pulseMs).toBe(300);
    expect(c.dataDir.endsWith('data')).toBe(true);
  });

  it('caps phone submissions across the cabinet at 300 an hour unless SUBMIT_MAX_PER_HOUR says otherwise (0: no such cap)', () => {
    expect(loadConfig({}).submitMaxPerHour).toBe(300);
    expect(loadConfig({ SUBMIT_MAX_PER_HOUR: '0' }).submitMaxPerHour).toBe(0);
    expect(() => loadConfig({ SUBMIT_MAX_PER_HOUR: '-1' })).toThrow();
  });

  it('reads a two-board layout, a tcp port and 115200 baud', () => {
    const c = loadConfig({ LOCK_LAYOUT: '2x12', LOCK_PORT: 'tcp://127.0.0.1:7001', LOCK_BAUD: '115200' });
    expect(c.layout.boards).toEqual([
      { addr: 1, channels: 12 },
      { addr: 2, channels: 12 },
    ]);
    expect(c.lockPort).toBe('tcp://127.0.0.1:7001');
    expect(c.lockBaud).toBe(115200);
  });

  it('refuses bad values, naming every variable at once', () => {
    let caught: unknown;
    try {
      loadConfig({ LOCK_BAUD: '4800', LOCK_PULSE_MS: '5000', PORT: 'abc', LOCK_LAYOUT: '0x24', LOCK_PORT: 'ttyUSB0' });
    } catch (e) {
      caught = e;
    }
    expect(isCabinetError(caught, 'CONFIG_INVALID')).toBe(true);
    const message = (caught as Error).message;
    for (const name of ['LOCK_BAUD', 'LOCK_PULSE_MS', 'PORT', 'LOCK_LAYOUT', 'LOCK_PORT']) expect(message).toContain(name);
  });

  it('reads the committee phone the kiosk shows when out of service, and refuses anything but a phone number', () => {
    expect(loadConfig({}).committeePhone).toBeNull();
    expect(loadConfig({ COMMITTEE_PHONE: '010-6254 1234' }).committeePhone).toBe('010-6254 1234');
    for (const bad of ['12', 'call me', '<b>110</b>', '1'.repeat(21)])
      expect(() => loadConfig({ COMMITTEE_PHONE: bad }), bad).toThrow(/COMMITTEE_PHONE/);
  });

  it('reads how the doors sit on the cabinet for the kiosk drawing, and refuses a grid the doors do not fit', () => {
    // by default as before: 6 wide for more than 12 doors, else 4, numbered along each row from the top
    expect(loadConfig({}).cabinet).toEqual({ columns: 6, rows: 4, numbering: 'rows' });
    expect(loadConfig({ LOCK_LAYOUT: '1x12' }).cabinet).toEqual({ columns: 4, rows: 3, numbering: 'rows' });
    expect(loadConfig({ CABINET_GRID: '4x6', CABINET_NUMBERING: 'columns' }).cabinet).toEqual({ columns: 4, rows: 6, numbering: 'columns' });
    expect(loadConfig({ CABINET_GRID: ' 3X10 ' }).cabinet).toEqual({ columns: 3, rows: 10, numbering: 'rows' });
    for (const [env, name] of [
      [{ CABINET_GRID: '4x5' }, 'CABINET_GRID'], // 20 places for 24 doors
      [{ CABINET_GRID: 'six by four' }, 'CABINET_GRID'],
      [{ CABINET_GRID: '0x24' }, 'CABINET_GRID'],
      [{ CABINET_GRID: '6x4', CABINET_NUMBERING: 'diagonal' }, 'CABINET_NUMBERING'],
      [{ LOCK_LAYOUT: '2x24', CABINET_GRID: '6x4' }, 'CABINET_GRID'],
    ] as const) {
      let caught: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        caught = e;
      }
      expect(isCabinetError(caught, 'CONFIG_INVALID'), JSON.stringify(env)).toBe(true);
      expect((caught as Error).message, JSON.stringify(env)).toContain(name);
    }
  });

  it('refuses a reconnect minimum above the maximum', () => {
    expect(() => loadConfig({ LOCK_RECONNECT_MIN_MS: '5000', LOCK_RECONNECT_MAX_MS: '1000' })).toThrow(/LOCK_RECONNECT_MIN_MS/);
  });

  it('documents every setting', () => {
    const table = describeConfig();
    expect(table).toContain('LOCK_PORT');
    expect(table).toContain('LOCK_DOOR_POLARITY');
    expect(table.split('\n').length).toBeGreaterThanOrEqual(15);
  });
});

describe('README', () => {
  it('lists every setting exactly as the code defines it', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(describeConfig());
  });
});

describe('the unlock policy at start-up', () => {
  const refusal = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (e) {
      expect(isCabinetError(e, 'CONFIG_INVALID')).toBe(true);
      return (e as Error).message;
    }
    return 'accepted';
  };

  it('refuses an unlock deadline shorter than (retries + 1) × the reply deadline, naming the three settings', () => {
    const message = refusal({ UNLOCK_TTL_MS: '1000', LOCK_RETRIES: '2', LOCK_RESPONSE_TIMEOUT_MS: '500' });
    for (const name of ['UNLOCK_TTL_MS', 'LOCK_RETRIES', 'LOCK_RESPONSE_TIMEOUT_MS']) expect(message).toContain(name);
    expect(message).toContain('1500 ms');
  });

  it('accepts the deadline equal to the retry span, and the defaults', () => {
    expect(refusal({ UNLOCK_TTL_MS: '1500', LOCK_RETRIES: '2', LOCK_RESPONSE_TIMEOUT_MS: '500' })).toBe('accepted');
    expect(refusal({})).toBe('accepted');
  });

  it('refuses a retry span that reaches the boards’ 10 s de-duplication window', () => {
    expect(refusal({ UNLOCK_TTL_MS: '30000', LOCK_RETRIES: '4', LOCK_RESPONSE_TIMEOUT_MS: '2000' })).toMatch(/de-duplication/);
  });

  it('refuses a tamper window shorter than the wait for a door to open', () => {
    expect(refusal({ LOCK_TAMPER_WINDOW_MS: '2000', DOOR_OPEN_TIMEOUT_MS: '5000' })).toMatch(/LOCK_TAMPER_WINDOW_MS=2000.*DOOR_OPEN_TIMEOUT_MS=5000/);
  });
});

describe('lock-board family, baud and layout file', () => {
  it('defaults to our own protocol; a vendor family brings its own baud rate and says it has no item sensors', async () => {
    expect(loadConfig({})).toMatchObject({ lockBoard: 'native', lockBaud: 9600, itemSensors: true, vendorPollMs: 100 });
    expect(loadConfig({ LOCK_BOARD: '8a80' })).toMatchObject({ lockBoard: '8a80', lockBaud: 9600, itemSensors: false });
    expect(loadConfig({ LOCK_BOARD: 'kerong-cu48' })).toMatchObject({ lockBoard: 'kerong-cu48', lockBaud: 19200 });
    expect(loadConfig({ LOCK_BOARD: 'kerong-cu48', LOCK_BAUD: '9600' }).lockBaud).toBe(9600);
  });

  it('refuses an unknown family, a speed the family does not run at, and a board wider than the family’s', () => {
    expect(() => loadConfig({ LOCK_BOARD: 'yt-locker' })).toThrow(/LOCK_BOARD/);
    expect(() => loadConfig({ LOCK_BOARD: '8a80', LOCK_BAUD: '115200' })).toThrow(/LOCK_BAUD=.*8a80 boards run at 9600/);
    expect(() => loadConfig({ LOCK_BAUD: '19200' })).toThrow(/LOCK_BAUD/);
    expect(() => loadConfig({ LOCK_BOARD: '8a80', LOCK_LAYOUT: '1x48' })).toThrow(/LOCK_LAYOUT: board 1 has 48 locks; a 8a80 board has at most 24/);
  });

  it('reads a layout file: compartments where the doors are, locks without a door skipped', async () => {
    const { default: fs } = await import('node:fs');
    const { tempDir } = await import('../test/harness.js');
    const file = `${tempDir('layout-')}/layout.json`;
    fs.writeFileSync(
      file,
      JSON.stringify({
        boards: [
          { address: 2, locks: [3, null, 1] },
          { address: 1, locks: [2] },
        ],
      }),
    );
    const c = loadConfig({ LOCK_BOARD: '8a80', LOCK_LAYOUT_FILE: file });
    expect(c.layout.boards).toEqual([
      { addr: 1, channels: 1 },
      { addr: 2, channels: 3 },
    ]);
    expect(c.layout.compartments).toEqual(
      expect.arrayContaining([
        { compartment: 1, addr: 2, channel: 3 },
        { compartment: 2, addr: 1, channel: 1 },
        { compartment: 3, addr: 2, channel: 1 },
      ]),
    );
  });

  it('names the layout file and what is wrong with it', async () => {
    const { default: fs } = await import('node:fs');
    const { tempDir } = await import('../test/harness.js');
    const dir = tempDir('layout-');
    const cases: [unknown, RegExp][] = [
      [{ boards: [{ address: 1, locks: [1, 1] }] }, /compartment 1 appears twice \(board 1 lock 1 and board 1 lock 2\)/],
      [{ boards: [{ address: 1, locks: [1, 3] }] }, /numbered 1\.\.2 without gaps; missing 2/],
      [{ boards: [{ address: 0, locks: [1] }] }, /boards\.0\.address/],
      [{ boards: [{ address: 1, locks: [null] }] }, /at least one compartment/],
    ];
    for (const [i, [content, problem]] of cases.entries()) {
      const file = `${dir}/bad${i}.json`;
      fs.writeFileSync(file, JSON.stringify(content));
      expect(() => loadConfig({ LOCK_LAYOUT_FILE: file })).toThrow(problem);
      expect(() => loadConfig({ LOCK_LAYOUT_FILE: file })).toThrow(/LOCK_LAYOUT_FILE/);
    }
    fs.writeFileSync(`${dir}/notjson.json`, '{ boards: ');
    expect(() => loadConfig({ LOCK_LAYOUT_FILE: `${dir}/notjson.json` })).toThrow(/LOCK_LAYOUT_FILE.*not JSON/);
    expect(() => loadConfig({ LOCK_LAYOUT_FILE: `${dir}/missing.json` })).toThrow(/LOCK_LAYOUT_FILE.*cannot be read/);
  });
});

describe('the unlock policy through a vendor adapter', () => {
  it('counts the adapter’s longer reply deadline in the retry span', () => {
    expect(() => loadConfig({ LOCK_BOARD: '8a80', UNLOCK_TTL_MS: '5000', LOCK_RETRIES: '2', LOCK_RESPONSE_TIMEOUT_MS: '1000' })).toThrow(
      /UNLOCK_TTL_MS=5000.*6300 ms/s,
    );
    expect(() => loadConfig({ LOCK_BOARD: 'native', UNLOCK_TTL_MS: '5000', LOCK_RETRIES: '2', LOCK_RESPONSE_TIMEOUT_MS: '1000' })).not.toThrow();
  });
});

describe('SIM_PROTOCOL', () => {
  const refusal = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  it('is 1 unless set, and takes 2 for the embedded simulator', () => {
    expect(loadConfig({}).simProtocol).toBe(1);
    expect(loadConfig({ SIM_PROTOCOL: '2' }).simProtocol).toBe(2);
  });

  it('refuses another version, a vendor family and boards of more than 32 channels', () => {
    expect(refusal({ SIM_PROTOCOL: '3' })).toContain('SIM_PROTOCOL');
    expect(refusal({ SIM_PROTOCOL: '2', LOCK_BOARD: '8a80' })).toContain('SIM_PROTOCOL=2');
    expect(refusal({ SIM_PROTOCOL: '2', LOCK_LAYOUT: '1x48' })).toContain('at most 32');
  });
});
