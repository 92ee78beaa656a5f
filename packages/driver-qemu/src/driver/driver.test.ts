import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, VirtError } from '@virtkit/core';
import { parseExitReason } from '../process/log.js';
import { buildTestGuest, killQemusMatching, testGuestDomainXml, type TestGuest } from '../test-support.js';
import { outsideLocks, withLock } from './locks.js';
import { decodeSaveImageHeader, encodeSaveImageStart, SAVE_HEADER_SIZE, SAVE_MAGIC } from './save-image.js';

describe('save image header (libvirt qemu_saveimage.h)', () => {
  it('writes libvirt\'s layout: partial magic, version 2, XML with its NUL and 64 KiB of padding', () => {
    const xml = '<domain/>';
    const buf = encodeSaveImageStart(xml, true);
    expect(SAVE_HEADER_SIZE).toBe(92);
    expect(buf.toString('latin1', 0, 16)).toBe('LibvirtQemudPart');
    expect(buf.readUInt32LE(16)).toBe(2);
    expect(buf.readUInt32LE(20)).toBe(xml.length + 1 + 65536);
    expect(buf.readUInt32LE(24)).toBe(1);
    expect(buf.length).toBe(92 + xml.length + 1 + 65536);
    // Incomplete images are refused; complete ones read back.
    expect(() => decodeSaveImageHeader(buf, 'f')).toThrow(/incomplete/);
    buf.write(SAVE_MAGIC, 0, 'latin1');
    expect(decodeSaveImageHeader(buf, 'f')).toMatchObject({ wasRunning: true, dataLen: 65546, format: 0 });
    expect(() => decodeSaveImageHeader(Buffer.alloc(92), 'f')).toThrow(VirtError);
  });
});

describe('QEMU log reasons', () => {
  it('reads the traced shutdown request: a guest power-off, not a crash', () => {
    const r = parseExitReason('2026-01-01T00:00:00.000Z: starting up\nchar device redirected to /dev/pts/3 (label charserial0)\n1234@1795.5:qemu_system_shutdown_request reason=6\n');
    expect(r.shutdownRequest).toEqual({ cause: 'guest-shutdown', guest: true });
    expect(r.errors).toEqual([]);
    expect(parseExitReason('').shutdownRequest).toBeUndefined();
  });
});

describe('domain locks', () => {
  it('are re-entrant within one flow, exclusive across flows, and not inherited by background work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vk-lock-'));
    const path = join(dir, 'd.lock');
    const order: string[] = [];
    try {
      await withLock(path, 'a', async () => {
        order.push('a-in');
        await withLock(path, 'a again', async () => order.push('a-nested'));
        // Work started inside a job but run as its own flow queues like anyone else.
        const bg = outsideLocks(() => withLock(path, 'bg', async () => order.push('bg')));
        await new Promise((r) => setTimeout(r, 30));
        order.push('a-out');
        void bg;
      });
      await withLock(path, 'last', async () => order.push('last'));
      expect(order).toEqual(['a-in', 'a-nested', 'a-out', 'bg', 'last']);
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Without a guest of interest: what the driver writes where, and its refusals.
describe('qemu:///embed files and rules', () => {
  const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
  const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
  const root = mkdtempSync(join(tmpdir(), 'vk-qemu-drv-'));
  const uri = `qemu:///embed?root=${root}`;
  let guest: TestGuest;
  let conn: Connection;

  beforeAll(async () => {
    guest = await buildTestGuest();
    conn = await Connection.open(uri, { loader });
  }, 60_000);
  afterAll(async () => {
    await conn?.close();
    await killQemusMatching(root);
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps definitions, autostart marks, records and live XML under the URI\'s folders', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'files'));
    expect(readFileSync(join(root, 'etc/qemu/files.xml'), 'utf8')).toContain('<name>files</name>');
    await d.setAutostart(true);
    expect(readlinkSync(join(root, 'etc/qemu/autostart/files.xml'))).toBe(join(root, 'etc/qemu/files.xml'));
    await d.start();
    try {
      const rec = JSON.parse(readFileSync(join(root, 'run/qemu/files.json'), 'utf8'));
      expect(rec).toMatchObject({ name: 'files', state: 'running', reason: 'booted', persistent: true, id: d.id });
      expect(rec.process.pid).toBeGreaterThan(0);
      expect(readFileSync(join(root, 'run/qemu/files.xml'), 'utf8')).toMatch(/<domain type='qemu' id='\d+'>/);
      // The live XML has what the start added: aliases and the pty path.
      const live = await d.getXmlDesc();
      expect(live).toContain("<alias name='serial0'/>");
      expect(live).toMatch(/<source path='\/dev\/pts\/\d+'\/>/);
      expect(await d.getXmlDesc({ inactive: true })).not.toContain('<alias');
      // Undefining a running domain makes it transient; it disappears when it stops.
      await d.undefine();
      expect(existsSync(join(root, 'etc/qemu/files.xml'))).toBe(false);
      expect(existsSync(join(root, 'etc/qemu/autostart/files.xml'))).toBe(false);
      expect(await d.isPersistent()).toBe(false);
    } finally {
      await d.destroy();
    }
    await expect(conn.lookupDomainByName('files')).rejects.toMatchObject({ code: 'NO_DOMAIN' });
    expect(existsSync(join(root, 'run/qemu/files.json'))).toBe(false);
  }, 60_000);

  it('refuses to undefine a domain with a managed save image unless asked, and prints its command line', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'msave'));
    await d.start();
    await d.managedSave();
    await expect(d.undefine()).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
    expect(existsSync(join(root, 'lib/qemu/save/msave.save'))).toBe(true);
    await d.undefine({ managedSave: true });
    expect(existsSync(join(root, 'lib/qemu/save/msave.save'))).toBe(false);

    const argv = await conn.domainXmlToNative('qemu-argv', testGuestDomainXml(guest, 'native'));
    expect(argv).toContain('-name guest=native,debug-threads=on');
    expect(argv).toContain(`-kernel ${guest.kernel}`);
    expect(argv).not.toContain('-no-shutdown');
    await expect(conn.domainXmlToNative('xen-xl', testGuestDomainXml(guest, 'native'))).rejects.toMatchObject({ code: 'INVALID_ARG' });
  }, 60_000);

  it('validates on request: content the typed model does not know fails, and is kept otherwise', async () => {
    const xml = testGuestDomainXml(guest, 'strict').replace('</devices>', '<frobnicator mode="on"/></devices>');
    await expect(conn.defineDomainXml(xml, { validate: true })).rejects.toMatchObject({ code: 'XML_ERROR', message: expect.stringContaining('<frobnicator>') });
    await expect(conn.createDomainXml(xml, { validate: true })).rejects.toMatchObject({ code: 'XML_ERROR' });
    await expect(conn.lookupDomainByName('strict')).rejects.toMatchObject({ code: 'NO_DOMAIN' });
    // What the model knows passes; without --validate the unknown element is kept.
    const ok = await conn.defineDomainXml(testGuestDomainXml(guest, 'strict'), { validate: true });
    await ok.undefine();
    const kept = await conn.defineDomainXml(xml);
    expect(await kept.getXmlDesc()).toContain('<frobnicator mode="on"/>'.replace(/"/g, "'"));
    await kept.undefine();
  });

  it('attaches and detaches devices in the definition (--config), with define-time addresses', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'config-dev'));
    try {
      await d.attachDevice("<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/var/tmp/none.img'/><target dev='vdc' bus='virtio'/></disk>", { config: true });
      await d.attachDevice("<interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/></interface>");
      const xml = await d.getXmlDesc({ inactive: true });
      expect(xml).toMatch(/<target dev='vdc' bus='virtio'\/>\s*<address type='pci' domain='0x0000' bus='0x00' slot='0x0[0-9a-f]'/);
      expect(xml).toContain("<mac address='52:54:00:12:34:56'/>");
      await expect(d.attachDevice("<disk type='file' device='disk'><source file='/x'/><target dev='vdc' bus='virtio'/></disk>")).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
      await expect(d.attachDevice("<disk type='file' device='disk'><source file='/x'/><target dev='vdd'/></disk>", { live: true })).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
      await d.detachDevice("<disk type='file'><target dev='vdc'/></disk>");
      await d.detachDevice("<interface type='user'><mac address='52:54:00:12:34:56'/></interface>");
      expect(await d.getXmlDesc({ inactive: true })).not.toMatch(/vdc|52:54:00:12:34:56/);
      await expect(d.detachDevice("<disk type='file'><target dev='vdc'/></disk>")).rejects.toMatchObject({ code: 'NO_DEVICE' });
    } finally {
      await d.undefine();
    }
  }, 60_000);

  it('starts autostart domains on the first open after boot, once', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'auto'));
    await d.setAutostart(true);
    // A new boot, as far as the marker knows.
    writeFileSync(join(root, 'run/qemu/autostarted'), 'another-boot');
    const c2 = await Connection.open(uri, { loader });
    try {
      expect((await d.getState()).state).toBe('running');
      await d.destroy();
      const c3 = await Connection.open(uri, { loader });
      await c3.close();
      expect((await d.getState()).state).toBe('shutoff');
    } finally {
      await c2.close();
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 60_000);

  it('gives virtkitd the autostart report through startAutostart: the open-time run\'s, else a run of its own, once per boot', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'auto-hook'));
    await d.setAutostart(true);
    const marker = join(root, 'run/qemu/autostarted');
    const opened: Connection[] = [];
    const open = async (readonly = false) => {
      const c = await Connection.open(uri, { loader, readonly });
      opened.push(c);
      return c.driver;
    };
    try {
      // A read-write open after boot starts it; the hook hands the daemon that run's report.
      writeFileSync(marker, 'another-boot');
      const first = await open();
      expect((await d.getState()).state).toBe('running');
      expect(await first.startAutostart!()).toEqual({ started: ['auto-hook'], failed: [] });
      // Done for this boot: a later open (and its hook) starts nothing.
      await d.destroy();
      expect(await (await open()).startAutostart!()).toBeUndefined();
      expect((await d.getState()).state).toBe('shutoff');
      // An open that did not run it (read-only here) runs it when the hook is called.
      writeFileSync(marker, 'yet-another-boot');
      const ro = await open(true);
      expect((await d.getState()).state).toBe('shutoff');
      expect(await ro.startAutostart!()).toEqual({ started: ['auto-hook'], failed: [] });
      expect((await d.getState()).state).toBe('running');
      expect(await ro.startAutostart!()).toBeUndefined();
    } finally {
      for (const c of opened) await c.close();
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 60_000);

  it('refuses what the QEMU driver cannot run, naming the domain', async () => {
    await expect(conn.defineDomainXml("<domain type='lxc'><name>x</name><memory>1024</memory><os><type>exe</type><init>/bin/sh</init></os></domain>")).rejects.toBeInstanceOf(VirtError);
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'refuse'));
    try {
      await expect(d.shutdown({ modes: ['initctl'] })).rejects.toMatchObject({ code: 'ARGUMENT_UNSUPPORTED' });
      await expect(d.attachDevice("<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>", { live: true })).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
      await expect(d.setMemory(1024, { maximum: true, live: true })).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
      await expect(d.openConsole()).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
    } finally {
      await d.undefine();
    }
  }, 60_000);
});
