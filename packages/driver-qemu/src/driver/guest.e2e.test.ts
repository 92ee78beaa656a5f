import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, type DomainHandle, type VirtEvent } from '@virtkit/core';
import { QmpClient } from '../qmp/client.js';
import { buildTestGuest, SerialConsole, tearDownEmbed, testGuestDomainXml, type TestGuest } from '../test-support.js';
import { withLock } from './locks.js';
import { OtherProcess } from './other-process.testlib.js';
import { QemuPaths } from './paths.js';

// Real guests, checked from inside: the test guest's shell on the serial
// console says what the guest sees after each change.
const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
const root = mkdtempSync(join(tmpdir(), 'vk-qemu-e2e-'));
const uri = `qemu:///embed?root=${root}`;
let guest: TestGuest;
let conn: Connection;
const events: VirtEvent[] = [];

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function consoleOf(d: DomainHandle): Promise<SerialConsole> {
  const con = SerialConsole.fromStream(await d.openConsole());
  con.write('\n');
  await con.waitFor(guest.prompt, 30_000);
  return con;
}

/** Runs a script in another Node process against the same embed root (what a second `virtkit` would do). */
const other = new OtherProcess(uri, pkgDir);
const inOtherProcess = (body: string) => other.run(body);

beforeAll(async () => {
  guest = await buildTestGuest();
  conn = await Connection.open(uri, { loader });
  conn.on('*', (e) => events.push(e));
}, 60_000);

afterAll(() => tearDownEmbed(conn, root), 60_000);

describe('a real guest', () => {
  it('boots to a prompt on its serial console and powers off by itself on shutdown', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-boot'));
    await d.start();
    const con = await consoleOf(d);
    expect(await con.run('echo $((6*7))')).toBe('42');
    con.close();
    await d.shutdown();
    // Nobody waits: the guest handles the ACPI button, QEMU ends, and this process notices.
    const st = await until('shutoff', async () => ((await d.getState()).state === 'shutoff' ? await d.getState() : undefined));
    expect(st.reason).toBe('shutdown');
    expect(events.some((e) => e.kind === 'domain' && e.domain.name === 'e2e-boot' && e.type === 'stopped' && e.detail === 'shutdown')).toBe(true);
    await d.undefine();
  }, 90_000);

  it('shows a hot-plugged disk, vCPU and DIMM inside the guest, and in the live XML', async () => {
    const img = join(root, 'hot.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '32M']);
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-hot', { maxMemory: { mib: 1024, slots: 4 }, vcpus: 1, maxVcpus: 4 }));
    await d.start();
    const con = await consoleOf(d);
    try {
      expect((await con.run('ls /sys/block')).split(/\s+/)).not.toContain('vda');
      const memBefore = Number(/MemTotal:\s+(\d+)/.exec(await con.run('grep MemTotal /proc/meminfo'))![1]);

      await d.attachDevice(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img}'/><target dev='vdb' bus='virtio'/></disk>`);
      await d.setVcpus(2, { live: true });
      await d.attachDevice(`<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>`);

      await until('the disk in the guest', async () => ((await con.run('ls /sys/block')).split(/\s+/).includes('vda') ? true : undefined));
      expect(await con.run('cat /sys/block/vda/size')).toBe(String((32 * 1024 * 1024) / 512));
      await until('the vCPU online', async () => ((await con.run('cat /sys/devices/system/cpu/online')) === '0-1' ? true : undefined));
      const memAfter = await until('the DIMM online', async () => {
        const m = Number(/MemTotal:\s+(\d+)/.exec(await con.run('grep MemTotal /proc/meminfo'))![1]);
        return m > memBefore ? m : undefined;
      });
      expect(memAfter - memBefore).toBeGreaterThan(100 * 1024);

      const xml = await d.getXmlDesc();
      expect(xml).toContain("<target dev='vdb' bus='virtio'/>");
      expect(xml).toMatch(/<memory model='dimm'>[\s\S]*<size unit='KiB'>131072<\/size>/);
      expect(xml).toContain("<vcpu placement='static' current='2'>4</vcpu>");
      expect((await d.getInfo()).vcpus).toBe(2);
      // The persistent definition is untouched by live-only changes.
      expect(await d.getXmlDesc({ inactive: true })).not.toContain('vdb');

      const stats = await d.getStats(['block', 'vcpu', 'balloon', 'cpu']);
      expect(stats['block.count']).toBe(1);
      expect(stats['block.0.name']).toBe('vdb');
      expect(stats['vcpu.current']).toBe(2);
      expect(Number(stats['cpu.time'])).toBeGreaterThan(0);
    } finally {
      con.close();
      await d.destroy();
      await d.undefine();
    }
  }, 120_000);

  it('unplugs a disk with every node its attach (or start) created: a qcow2 overlay on a backing image, with copy-on-read', async () => {
    const base = join(root, 'base.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    for (const top of ['hot-top.qcow2', 'boot-top.qcow2']) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', join(root, top)]);
    const chainDisk = (file: string, dev: string, cor: boolean) =>
      `<disk type='file' device='disk'><driver name='qemu' type='qcow2'${cor ? " copy_on_read='on'" : ''}/><source file='${join(root, file)}'/>` +
      `<backingStore type='file'><format type='qcow2'/><source file='${base}'/></backingStore><target dev='${dev}' bus='virtio'/></disk>`;
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-unplug', { devices: chainDisk('boot-top.qcow2', 'vdc', false) }));
    await d.start();
    const blockNodes = async () => {
      const rec = JSON.parse(readFileSync(join(root, 'run/qemu/e2e-unplug.json'), 'utf8')) as { process: { monitorPath: string } };
      const qmp = await QmpClient.connect(rec.process.monitorPath, { domain: 'e2e-unplug', timeoutMs: 10_000 });
      try {
        return (await qmp.execute<Array<{ 'node-name': string }>>('query-named-block-nodes', { flat: true })).map((n) => n['node-name']).sort();
      } finally {
        await qmp.close();
      }
    };
    const con = await consoleOf(d);
    try {
      const atStart = await blockNodes();
      // The start recorded the node indexes of the chain in the live XML (libvirt's <source index>).
      const startIdx = /<source file='[^']*boot-top\.qcow2' index='(\d+)'\/>\s*<backingStore type='file' index='(\d+)'>/.exec(await d.getXmlDesc());
      expect(startIdx).not.toBeNull();
      expect(atStart).toEqual([`libvirt-${startIdx![1]}-format`, `libvirt-${startIdx![1]}-storage`, `libvirt-${startIdx![2]}-format`, `libvirt-${startIdx![2]}-storage`].sort());

      await d.attachDevice(chainDisk('hot-top.qcow2', 'vdb', true));
      const hotIdx = /<source file='[^']*hot-top\.qcow2' index='(\d+)'\/>\s*<backingStore type='file' index='(\d+)'>/.exec(await d.getXmlDesc());
      expect(hotIdx).not.toBeNull();
      const [top, backing] = [Number(hotIdx![1]), Number(hotIdx![2])];
      expect((await blockNodes()).filter((n) => !atStart.includes(n))).toEqual(
        ['libvirt-CoR-vdb', `libvirt-${top}-format`, `libvirt-${top}-storage`, `libvirt-${backing}-format`, `libvirt-${backing}-storage`].sort(),
      );
      await until('the disk in the guest', async () => ((await con.run('ls /sys/block')).split(/\s+/).filter((b) => b.startsWith('vd')).length === 2 ? true : undefined));

      await d.detachDevice("<disk type='file'><target dev='vdb'/></disk>");
      expect(await blockNodes()).toEqual(atStart);
      // The disk the guest started with leaves nothing behind either.
      await d.detachDevice("<disk type='file'><target dev='vdc'/></disk>");
      expect(await blockNodes()).toEqual([]);
      expect(await d.getXmlDesc()).not.toContain('top.qcow2');
    } finally {
      con.close();
      await d.destroy();
      await d.undefine();
    }
  }, 120_000);

  it('reboots: the guest powers down, is reset and boots again, the domain stays running', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-reboot'));
    await d.start();
    const con = await consoleOf(d);
    try {
      await con.run('echo before > /tmp/mark');
      await d.reboot();
      await con.waitFor(guest.readyMarker, 30_000);
      await con.waitFor(guest.prompt, 10_000);
      // A fresh boot: the initramfs file system starts over.
      expect(await con.run('cat /tmp/mark 2>/dev/null || echo gone')).toBe('gone');
      expect((await d.getState()).state).toBe('running');
      expect(events.some((e) => e.kind === 'domain-event' && e.event === 'reboot' && e.domain.name === 'e2e-reboot')).toBe(true);
    } finally {
      con.close();
      await d.destroy();
      await d.undefine();
    }
  }, 120_000);

  it('hot-plugs a NIC on a bridge: a tap on the bridge, the device in QEMU and in the guest; unplug removes both', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip();
    const br = `vkbr${process.pid % 100000}`;
    execFileSync('ip', ['link', 'add', br, 'type', 'bridge']);
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-nic'));
    try {
      await d.start();
      const con = await consoleOf(d);
      expect(await con.run('ls /sys/class/net')).not.toContain('eth0');
      await d.attachDevice(`<interface type='bridge'><mac address='52:54:00:5e:00:42'/><source bridge='${br}'/><model type='virtio'/></interface>`);
      const tap = /<target dev='(vnet\d+)'\/>/.exec(await d.getXmlDesc())?.[1];
      expect(tap).toBeTruthy();
      const onBridge = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', br], { encoding: 'utf8' })) as Array<{ ifname: string; address: string }>;
      expect(onBridge.map((l) => l.ifname)).toContain(tap);
      expect(onBridge.find((l) => l.ifname === tap)?.address).toBe('fe:54:00:5e:00:42');
      await until('the NIC in the guest', async () => ((await con.run('cat /sys/class/net/eth0/address 2>/dev/null')) === '52:54:00:5e:00:42' ? true : undefined));
      expect((await d.getStats(['net']))['net.0.name']).toBe(tap);
      await d.detachDevice(`<interface type='bridge'><mac address='52:54:00:5e:00:42'/></interface>`);
      expect(await d.getXmlDesc()).not.toContain('52:54:00:5e:00:42');
      expect(execFileSync('ip', ['-j', 'link', 'show', 'master', br], { encoding: 'utf8' })).not.toContain(`"${tap}"`);
      await until('the NIC gone from the guest', async () => ((await con.run('ls /sys/class/net')).includes('eth0') ? undefined : true));
      con.close();
    } finally {
      await d.destroy().catch(() => {});
      await d.undefine();
      execFileSync('ip', ['link', 'del', br]);
    }
  }, 120_000);

  it('plugs a NIC of a virtual network into the network\'s bridge through a port, and gives the port back', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip();
    // The network modes are plugins: this connection finds the bridge mode next to this package.
    const withModes = new PluginLoader({ roots: [], pluginPath: [pkgDir, join(pkgDir, '../network/bridge')].join(':') });
    const c = await Connection.open(uri, { loader: withModes });
    const br = `vknb${process.pid % 100000}`;
    const net = `vknet${process.pid % 100000}`;
    execFileSync('ip', ['link', 'add', br, 'type', 'bridge']);
    try {
      const n = await c.createNetworkXml(`<network><name>${net}</name><forward mode='bridge'/><bridge name='${br}'/></network>`);
      const d = await c.defineDomainXml(testGuestDomainXml(guest, 'e2e-netport', { devices: `<interface type='network'><mac address='52:54:00:5e:00:43'/><source network='${net}'/><model type='virtio'/></interface>` }));
      try {
        await d.start();
        const tap = /<target dev='(vnet\d+)'\/>/.exec(await d.getXmlDesc())?.[1];
        expect(tap).toBeTruthy();
        expect(execFileSync('ip', ['-j', 'link', 'show', 'master', br], { encoding: 'utf8' })).toContain(`"${tap}"`);
        const ports = JSON.parse(readFileSync(join(root, 'run/network', `${net}.json`), 'utf8')).ports as Array<{ mac: string }>;
        expect(ports.map((p) => p.mac)).toEqual(['52:54:00:5e:00:43']);
        await d.destroy();
        expect(JSON.parse(readFileSync(join(root, 'run/network', `${net}.json`), 'utf8')).ports).toEqual([]);
        expect(execFileSync('ip', ['-j', 'link', 'show', 'master', br], { encoding: 'utf8' })).not.toContain(`"${tap}"`);
      } finally {
        await d.destroy().catch(() => {});
        await d.undefine();
        await n.destroy();
      }
    } finally {
      await c.close();
      execFileSync('ip', ['link', 'del', br]);
    }
  }, 120_000);

  it('is re-attached by another process, which sees and changes it under the same lock', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-attach'));
    await d.start();
    try {
      const out = await inOtherProcess(`
const d = await conn.lookupDomainByName('e2e-attach');
console.log('STATE', JSON.stringify(await d.getState()), d.id);
await d.suspend();
`);
      expect(out).toContain('"state":"running"');
      expect((await d.getState()).state).toBe('paused');

      // While this process holds the domain's lock, another process's resume waits.
      const paths = new QemuPaths({ scope: 'embed', config: join(root, 'etc'), data: join(root, 'lib'), runtime: join(root, 'run') });
      const released = { at: 0 };
      const other = withLock(paths.domainLock(d.uuid), 'test', async () => {
        const child = inOtherProcess(`const d = await conn.lookupDomainByName('e2e-attach'); await d.resume(); console.log('RESUMED', Date.now());`);
        await new Promise((r) => setTimeout(r, 1500));
        expect((await d.getState()).state).toBe('paused');
        released.at = Date.now();
        return { child }; // not the promise itself: withLock would wait for it while holding the lock
      });
      const childOut = await (await other).child;
      const resumedAt = Number(/RESUMED (\d+)/.exec(childOut)![1]);
      expect(resumedAt).toBeGreaterThanOrEqual(released.at);
      expect((await d.getState()).state).toBe('running');
    } finally {
      await d.destroy().catch(() => {});
      await d.undefine();
    }
  }, 120_000);

  it('notices a QEMU that dies on its own: crashed, with an event, also from the next process', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-crash'));
    await d.start();
    const pid = Number((await import('node:fs')).readFileSync(join(root, 'run/qemu', `domain-${d.id}-e2e-crash`, 'qemu.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    // This process started it: it hears the exit and records it.
    const st = await until('shutoff', async () => ((await d.getState()).state === 'shutoff' ? await d.getState() : undefined));
    expect(st.reason).toBe('crashed');
    await until('the stopped event', async () => (events.some((e) => e.kind === 'domain' && e.domain.name === 'e2e-crash' && e.type === 'stopped' && e.detail === 'failed') ? true : undefined));

    // A guest started by another process dies while nobody watches: the next process that looks records it.
    await inOtherProcess(`await (await conn.lookupDomainByName('e2e-crash')).start();`);
    // (No lookup here: this process would start watching it and record the crash itself.)
    const fs = await import('node:fs');
    const runDir = fs.readdirSync(join(root, 'run/qemu')).find((f) => /^domain-\d+-e2e-crash$/.test(f))!;
    const pid2 = Number(fs.readFileSync(join(root, 'run/qemu', runDir, 'qemu.pid'), 'utf8'));
    process.kill(pid2, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const out = await inOtherProcess(`console.log('STATE', JSON.stringify(await (await conn.lookupDomainByName('e2e-crash')).getState()));`);
    expect(out).toContain('"state":"shutoff","reason":"crashed"');
    expect(out).toContain('domain:stopped:failed');
    await d.undefine();
  }, 120_000);

  it('balloons memory down and back, cancels a save on abort, and keeps running', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-balloon', { memoryMiB: 384 }));
    await d.start();
    try {
      const con = await consoleOf(d);
      con.close();
      await d.setMemory(256 * 1024);
      const cur = await until('the balloon to inflate', async () => {
        const b = Number((await d.getStats(['balloon']))['balloon.current']);
        return b <= 260 * 1024 ? b : undefined;
      });
      expect(cur).toBeGreaterThan(200 * 1024);
      expect(await d.getXmlDesc()).toContain("<currentMemory unit='KiB'>262144</currentMemory>");
      expect((await d.getInfo()).memoryKiB).toBe(262144);
      await d.setMemory(384 * 1024);

      const file = join(root, 'aborted.save');
      const ac = new AbortController();
      const progress: number[] = [];
      const saving = d.save(file, {}, { signal: ac.signal, onProgress: (p) => progress.push(p.processed) });
      setTimeout(() => ac.abort(), 20);
      await expect(saving).rejects.toMatchObject({ code: 'OPERATION_ABORTED' });
      expect((await d.getState()).state).toBe('running');
      expect((await import('node:fs')).existsSync(file)).toBe(false);
      expect((await d.getJobInfo({ completed: true })).type).toBe('failed');
    } finally {
      await d.destroy();
      await d.undefine();
    }
  }, 120_000);

  it('saves to a managed image, starts from it, and keeps the guest state', async () => {
    const d = await conn.defineDomainXml(testGuestDomainXml(guest, 'e2e-managed', { vcpus: 1, maxVcpus: 2 }));
    await d.start();
    let con = await consoleOf(d);
    await con.run('echo remembered > /tmp/mark');
    // A hot-plugged vCPU must be there again for the saved state to load.
    await d.setVcpus(2, { live: true });
    await until('the vCPU online', async () => ((await con.run('cat /sys/devices/system/cpu/online')) === '0-1' ? true : undefined));
    con.close();
    await d.managedSave();
    expect(await d.getState()).toEqual({ state: 'shutoff', reason: 'saved' });
    expect(await d.hasManagedSave()).toBe(true);
    await d.start();
    expect((await d.getState()).reason).toBe('restored');
    expect(await d.hasManagedSave()).toBe(false);
    con = await consoleOf(d);
    expect(await con.run('cat /tmp/mark')).toBe('remembered');
    expect(await con.run('cat /sys/devices/system/cpu/online')).toBe('0-1');
    con.close();
    await d.destroy();
    await d.undefine();
  }, 120_000);
});
