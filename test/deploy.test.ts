/**
 * The installation on the cabinet's PC: deploy/install.sh in its staging mode (--root DIR writes every file it
 * would write under DIR and runs nothing), the systemd units through `systemd-analyze verify`, every script
 * through `shellcheck`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './harness.js';
import { ROOT } from './processes.js';

const SCRIPTS = [
  'deploy/install.sh',
  'deploy/kiosk/kiosk-browser.sh',
  'deploy/kiosk/kiosk-x11.sh',
  'deploy/bin/healthcheck.sh',
  'deploy/bin/bangbangui',
  '.ci/run',
  '.ci/test-tools.sh',
];

function install(args: string[]): { code: number | null; out: string } {
  const r = spawnSync('bash', [path.join(ROOT, 'deploy/install.sh'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: process.env.PATH ?? '' },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);
const read = (f: string) => fs.readFileSync(f, 'utf8');

function tree(dir: string): Record<string, { mode: string; mtimeMs: number }> {
  const out: Record<string, { mode: string; mtimeMs: number }> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const st = fs.statSync(path.join(dir, rel));
    out[rel] = { mode: (st.mode & 0o777).toString(8), mtimeMs: st.isDirectory() ? 0 : st.mtimeMs };
  }
  return out;
}

describe('deploy/install.sh --root (staging)', () => {
  it('writes every file with its mode and contents, and a second run changes nothing', () => {
    const root = tempDir('install-');
    const first = install(['--root', root, '--public-url', 'http://192.168.5.7:3000']);
    expect(first.code, first.out).toBe(0);
    const files = [
      ['etc/systemd/system/bangbangui.service', '644'],
      ['etc/systemd/system/bangbangui-healthcheck.service', '644'],
      ['etc/systemd/system/bangbangui-healthcheck.timer', '644'],
      ['etc/systemd/system/bangbangui-kiosk.service', '644'],
      ['etc/bangbangui/controller.env', '640'],
      ['etc/udev/rules.d/99-bangbangui.rules', '644'],
      ['etc/chromium/policies/managed/bangbangui-kiosk.json', '644'],
      ['usr/local/bin/bangbangui', '755'],
      ['usr/local/lib/bangbangui/healthcheck.sh', '755'],
      ['usr/local/lib/bangbangui/kiosk-browser.sh', '755'],
    ] as const;
    for (const [f, m] of files) {
      expect(fs.existsSync(path.join(root, f)), f).toBe(true);
      expect(mode(path.join(root, f)), f).toBe(m);
      expect(read(path.join(root, f)), `${f}: every placeholder filled in`).not.toMatch(/@[A-Z_]+@/);
    }
    expect(mode(path.join(root, 'var/lib/bangbangui'))).toBe('700');
    expect(mode(path.join(root, 'etc/bangbangui'))).toBe('750');

    const unit = read(path.join(root, 'etc/systemd/system/bangbangui.service'));
    expect(unit).toContain(`ExecStart=${process.execPath} --enable-source-maps ${ROOT}/dist/controller/main.js`);
    for (const line of [
      'User=bangbangui',
      'SupplementaryGroups=dialout',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/bangbangui -/mnt/cabinet-backup',
      'DeviceAllow=char-ttyUSB rw',
      'Restart=on-failure',
      'RestartPreventExitStatus=2 3',
      'StandardOutput=journal',
    ]) {
      expect(unit).toContain(line);
    }
    const env = read(path.join(root, 'etc/bangbangui/controller.env'));
    expect(env).toContain('DATA_DIR=/var/lib/bangbangui');
    expect(env).toContain('PUBLIC_URL=http://192.168.5.7:3000');
    expect(read(path.join(root, 'usr/local/bin/bangbangui'))).toContain(`app_dir="${ROOT}"`);
    expect(read(path.join(root, 'etc/systemd/system/bangbangui-kiosk.service'))).toContain(
      'ExecStart=/usr/bin/cage -d -- /usr/local/lib/bangbangui/kiosk-browser.sh',
    );
    const browser = read(path.join(root, 'usr/local/lib/bangbangui/kiosk-browser.sh'));
    for (const flag of [
      '--kiosk',
      '--disable-pinch',
      '--autoplay-policy=no-user-gesture-required',
      '--overscroll-history-navigation=0',
      '--noerrdialogs',
    ])
      expect(browser).toContain(flag);
    expect(first.out).toContain('would create system user bangbangui (groups dialout; shell /usr/sbin/nologin');
    expect(first.out).toContain('Next steps');

    const before = tree(root);
    const second = install(['--root', root, '--public-url', 'http://10.0.0.1:3000']);
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/Done: 0 changed, \d+ already right/);
    expect(second.out).not.toContain('daemon-reload');
    expect(tree(root)).toEqual(before);
    expect(read(path.join(root, 'etc/bangbangui/controller.env'))).toContain('PUBLIC_URL=http://192.168.5.7:3000'); // settings are the admin's

    const removed = install(['--root', root, '--uninstall']);
    expect(removed.code, removed.out).toBe(0);
    expect(fs.existsSync(path.join(root, 'etc/systemd/system/bangbangui.service'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'usr/local/bin/bangbangui'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'var/lib/bangbangui'))).toBe(true); // the data stays
    expect(fs.existsSync(path.join(root, 'etc/bangbangui/controller.env'))).toBe(true);
  });

  it('rebuilds when anything the bundle is made of is newer than it: the sources, and the locked dependencies it contains', () => {
    // deploy/bundle.mjs puts express, pino, … into dist/controller/main.js: npm ci alone would leave the old ones running
    const inputs = /find (.+?) -newer dist\/controller\/main\.js/.exec(read(path.join(ROOT, 'deploy/install.sh')))?.[1]?.split(/\s+/);
    expect(inputs).toEqual(
      expect.arrayContaining(['controller', 'sim', 'firmware-protocol', 'deploy/bundle.mjs', 'package.json', 'package-lock.json']),
    );
  });

  it('refuses an unknown option and a bad --kiosk, writing nothing', () => {
    const root = tempDir('install-');
    expect(install(['--root', root, '--frobnicate']).code).toBe(2);
    expect(install(['--root', root, '--kiosk', 'gnome']).code).toBe(2);
    expect(fs.readdirSync(root)).toEqual([]);
  });
});

describe('systemd units', () => {
  it('pass systemd-analyze verify (cage and X11 touchscreen variants)', () => {
    const root = tempDir('install-');
    expect(install(['--root', root]).code).toBe(0);
    expect(install(['--root', root, '--kiosk', 'x11']).code).toBe(0);
    // verify checks that each ExecStart binary exists: point the ones this test machine lacks at stand-ins
    const stub = path.join(root, 'stub');
    fs.mkdirSync(stub);
    for (const b of ['cage', 'xinit']) fs.writeFileSync(path.join(stub, b), '#!/bin/sh\n', { mode: 0o755 });
    const units = tempDir('units-');
    const names = fs.readdirSync(path.join(root, 'etc/systemd/system')).filter((n) => /\.(service|timer)$/.test(n));
    expect(names.sort()).toEqual([
      'bangbangui-healthcheck.service',
      'bangbangui-healthcheck.timer',
      'bangbangui-kiosk-x11.service',
      'bangbangui-kiosk.service',
      'bangbangui.service',
    ]);
    for (const n of names) {
      const text = read(path.join(root, 'etc/systemd/system', n))
        .replaceAll('/usr/local/lib/bangbangui', path.join(root, 'usr/local/lib/bangbangui'))
        .replace('/usr/bin/cage', path.join(stub, 'cage'))
        .replace('/usr/bin/xinit', path.join(stub, 'xinit'));
      fs.writeFileSync(path.join(units, n), text);
    }
    const r = spawnSync('systemd-analyze', ['verify', ...names.map((n) => path.join(units, n))], { cwd: units, encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('shellcheck', () => {
  it.each(SCRIPTS)('%s', (script) => {
    const r = spawnSync('shellcheck', ['--external-sources', path.join(ROOT, script)], { encoding: 'utf8' });
    expect(r.error, 'shellcheck is installed by .ci/test-tools.sh').toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
