/**
 * Real containers from a busybox root filesystem built for the run: a
 * command inside, its own PID namespace, freeze and thaw, the memory
 * limit enforced, user namespace, mounts, console, crash detection,
 * re-attach from another connection, live memory/CPU changes, and
 * nothing left on the host afterwards.
 */
import { chmod, mkdtemp, mkdir, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, PluginLoader, VirtError, type VirtEvent } from '@virtkit/core';
import {
  buildBusyboxRootfs, canRunLxcTests, containerInitPid, containerXml, embedLxcpath, lxcLeftovers, readProcessCgroupFile, removeRootfs, runInContainer, runTag,
} from './testing/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const can = canRunLxcTests();

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!can.ok)(`LXC containers (real) ${can.ok ? '' : `— skipped: ${can.why}`}`, () => {
  const tag = runTag('vkc');
  const loader = new PluginLoader({ roots: [], pluginPath: pkgDir });
  let root = '';
  let rootfs = '';
  let data = '';
  let conn: Connection;
  const events: VirtEvent[] = [];
  const uuids: string[] = [];
  const open = (readonly = false) => Connection.open(`lxc:///embed?root=${root}`, { loader, readonly });
  const lxcpath = () => embedLxcpath(root);
  const name = (n: string) => `${tag}-${n}`;
  const inside = (n: string, script: string) => runInContainer(lxcpath(), name(n), ['/bin/sh', '-c', script]);
  const define = async (n: string, o: Parameters<typeof containerXml>[2] = {}) => {
    const d = await conn.defineDomainXml(containerXml(name(n), rootfs, o));
    uuids.push(d.uuid);
    return d;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vkl-e2e-'));
    // Containers with a user namespace pass through the root to their folder.
    await chmod(root, 0o711);
    rootfs = await buildBusyboxRootfs(await mkdtemp(join(tmpdir(), 'vkl-fs-')));
    data = await mkdtemp(join(tmpdir(), 'vkl-data-'));
    await chmod(data, 0o755);
    await writeFile(join(data, 'hello.txt'), 'hello from the host\n');
    conn = await open();
    conn.on('*', (e) => events.push(e));
  });

  afterAll(async () => {
    try {
      if (conn) {
        for (const d of await conn.listAllDomains()) {
          if (d.id >= 0) await d.destroy().catch(() => {});
          if (await d.isPersistent().catch(() => false)) await d.undefine().catch(() => {});
        }
        await conn.close();
      }
      expect(await lxcLeftovers(root, uuids)).toEqual([]);
    } finally {
      // Whatever is still there after a failure: stop it by hand.
      for (const n of ['basic', 'mem', 'idmap', 'console', 'crash', 'fail', 'auto', 'tune', 'ro']) {
        const { spawnSync } = await import('node:child_process');
        spawnSync('lxc-stop', ['-k', '-n', name(n), '-P', lxcpath()]);
      }
      if (rootfs) await removeRootfs(rootfs);
      if (data) await rm(data, { recursive: true, force: true });
      if (root) await rm(root, { recursive: true, force: true });
    }
  });

  it('runs a command in a container whose init is pid 1 of its own PID namespace', async () => {
    const d = await define('basic', { env: { GREETING: 'hi there' }, init: ['/sbin/vkinit'] });
    await d.start();
    expect(d.id).toBeGreaterThan(0);
    expect(await d.getState()).toEqual({ state: 'running', reason: 'booted' });
    const r = inside('basic', 'echo "$$"; cat /proc/1/cmdline | tr "\\0" " "; echo; hostname; cat /proc/1/environ | tr "\\0" "\\n" | grep GREETING; ls /proc | grep -c "^[0-9]"');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(Number(lines[0])).toBeLessThan(100);
    expect(lines[1]).toContain('/sbin/vkinit');
    expect(lines[2]).toBe(name('basic').replace(/[^A-Za-z0-9-]/g, ''));
    expect(lines[3]).toBe('GREETING=hi there');
    // Only the container's few processes are visible, not the host's.
    expect(Number(lines[4])).toBeLessThan(10);
    // On the host the init is another pid, in another PID namespace.
    const pid = containerInitPid(lxcpath(), name('basic'))!;
    expect(pid).toBeGreaterThan(1);
    const { readlinkSync } = await import('node:fs');
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).not.toBe(readlinkSync('/proc/self/ns/pid'));
    expect(readlinkSync(`/proc/${pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    expect(readlinkSync(`/proc/${pid}/ns/uts`)).not.toBe(readlinkSync('/proc/self/ns/uts'));
    expect(readlinkSync(`/proc/${pid}/ns/ipc`)).not.toBe(readlinkSync('/proc/self/ns/ipc'));
    expect(readlinkSync(`/proc/${pid}/ns/mnt`)).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    // privnet: loopback only.
    expect(inside('basic', 'ls /sys/class/net').stdout.trim()).toBe('lo');
  });

  it('freezes and thaws the container', async () => {
    const d = await conn.lookupDomainByName(name('basic'));
    const pid = containerInitPid(lxcpath(), name('basic'))!;
    await d.suspend();
    expect(await d.getState()).toEqual({ state: 'paused', reason: 'user' });
    expect(await readProcessCgroupFile(pid, 'freezer', 'freezer.state').then((s) => s ?? 'FROZEN')).toBe('FROZEN');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0]).toMatch(/[DST]/);
    await d.resume();
    expect(await d.getState()).toEqual({ state: 'running', reason: 'unpaused' });
    expect(await readProcessCgroupFile(pid, 'freezer', 'freezer.state').then((s) => s ?? 'THAWED')).toBe('THAWED');
    expect(inside('basic', 'echo alive').stdout.trim()).toBe('alive');
    await expect(d.resume()).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
  });

  it('reports CPU and memory from its cgroup', async () => {
    const d = await conn.lookupDomainByName(name('basic'));
    inside('basic', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done');
    const info = await d.getInfo();
    expect(info.cpuTimeNs).toBeGreaterThan(0);
    expect(info.memoryKiB).toBeGreaterThan(0);
    expect(info.maxMemKiB).toBe(65536);
    const stats = await d.getStats();
    expect(stats['cpu.time']).toBeGreaterThan(0);
    expect(stats['balloon.maximum']).toBe(65536);
    expect(stats['state.state']).toBe(1);
  });

  it('shuts down by signalling init, and starts again', async () => {
    const d = await conn.lookupDomainByName(name('basic'));
    await d.shutdown({ waitMs: 15_000 });
    expect(await d.getState()).toEqual({ state: 'shutoff', reason: 'shutdown' });
    expect(events.some((e) => e.kind === 'domain' && e.domain.name === name('basic') && e.type === 'stopped' && e.detail === 'shutdown')).toBe(true);
    await d.start();
    const before = (await d.refresh()).id;
    await d.reboot();
    const after = (await d.refresh()).id;
    expect(after).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    expect(inside('basic', 'echo back').stdout.trim()).toBe('back');
    expect(events.some((e) => e.kind === 'domain-event' && e.event === 'reboot')).toBe(true);
    await d.destroy();
    expect(await d.getState()).toEqual({ state: 'shutoff', reason: 'destroyed' });
  });

  it('enforces its memory limit, and changes it live', async () => {
    const d = await define('mem', {
      memoryKiB: 65536,
      extra: "  <memtune><hard_limit unit='MiB'>32</hard_limit></memtune>\n",
      devices: "    <filesystem type='ram'><source usage='131072' units='KiB'/><target dir='/scratch'/></filesystem>\n",
    });
    await d.start();
    const pid = containerInitPid(lxcpath(), name('mem'))!;
    const limitFile = (await readProcessCgroupFile(pid, 'memory', 'memory.limit_in_bytes')) !== undefined ? 'memory.limit_in_bytes' : 'memory.max';
    expect(await readProcessCgroupFile(pid, 'memory', limitFile)).toBe(String(32 * 1024 * 1024));
    // Writing 64 MiB into a RAM filesystem charged to a 32 MiB cgroup: the writer is killed or refused.
    const r = inside('mem', 'dd if=/dev/zero of=/scratch/big bs=1M count=64 2>/dev/null; echo "dd=$?"; ls -l /scratch/big | awk "{print \\$5}"');
    const status = /dd=([0-9]+)/.exec(r.stdout)?.[1];
    const killed = r.code !== 0 || status === undefined || Number(status) !== 0;
    expect(killed, `dd was not stopped: ${r.stdout} ${r.stderr}`).toBe(true);
    const stats = await d.getStats(['balloon']);
    expect(stats['balloon.limit']).toBe(32 * 1024);
    expect(Number(stats['balloon.limit-hits'])).toBeGreaterThan(0);
    // setmem --live: the cgroup limit follows.
    await d.setMemory(48 * 1024, { live: true });
    expect(await readProcessCgroupFile(pid, 'memory', limitFile)).toBe(String(48 * 1024 * 1024));
    expect(await d.getXmlDesc()).toContain("<currentMemory unit='KiB'>49152</currentMemory>");
    await expect(d.setMemory(128 * 1024, { live: true })).rejects.toMatchObject({ code: 'INVALID_ARG' });
    await expect(d.setMemory(128 * 1024, { live: true, maximum: true })).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
    await d.destroy();
  });

  it('maps users through <idmap>, and mounts host folders and RAM file systems', async () => {
    // The mapped root owns nothing in the (host-owned) root filesystem: the mount points must exist.
    await mkdir(join(rootfs, 'mnt', 'data'), { recursive: true });
    await mkdir(join(rootfs, 'run', 'tmp'), { recursive: true });
    const d = await define('idmap', {
      extra: "  <idmap><uid start='0' target='200000' count='65536'/><gid start='0' target='200000' count='65536'/></idmap>\n",
      devices: `    <filesystem type='mount'><source dir='${data}'/><target dir='/mnt/data'/><readonly/></filesystem>
    <filesystem type='ram'><source usage='4096' units='KiB'/><target dir='/run/tmp'/></filesystem>\n`,
    });
    await d.start();
    const pid = containerInitPid(lxcpath(), name('idmap'))!;
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+200000\s/m);
    const r = inside('idmap', 'id -u; cat /mnt/data/hello.txt; touch /mnt/data/x 2>&1 || echo ro; grep " /run/tmp " /proc/mounts');
    expect(r.stdout).toContain('0\nhello from the host\n');
    expect(r.stdout).toMatch(/ro|Read-only/);
    expect(r.stdout).toMatch(/tmpfs \/run\/tmp tmpfs .*size=4096k/);
    await d.destroy();
  });

  it('gives a console: bytes in, bytes out', async () => {
    const d = await define('console', { init: ['/bin/sh', '-c', 'while :; do read -r line && eval "$line"; done'] });
    await d.start();
    const stream = await d.openConsole();
    let out = '';
    stream.on('data', (b: Buffer) => (out += b.toString('latin1')));
    stream.write('echo vk-$((40+2))\n');
    await waitFor('console output', () => (out.includes('vk-42\r\n') || out.includes('vk-42\n') ? true : undefined));
    stream.destroy();
    await d.destroy();
    await expect(d.openConsole()).rejects.toMatchObject({ code: 'OPERATION_INVALID' });
  });

  it('notices a container that dies on its own', async () => {
    const d = await define('crash');
    await d.start();
    const pid = containerInitPid(lxcpath(), name('crash'))!;
    process.kill(pid, 'SIGKILL');
    const ev = await waitFor('the crash event', () => events.find((e) => e.kind === 'domain' && e.domain.name === name('crash') && e.type === 'stopped'));
    expect(ev).toMatchObject({ type: 'stopped', detail: 'crashed' });
    expect(await d.getState()).toEqual({ state: 'shutoff', reason: 'crashed' });
    await d.start();
    expect(inside('crash', 'echo ok').stdout.trim()).toBe('ok');
    // An init that exits with an error status is a failure.
    const f = await define('fail', { init: ['/bin/sh', '-c', 'sleep 0.3; exit 3'] });
    await f.start();
    const failed = await waitFor('the failure event', () => events.find((e) => e.kind === 'domain' && e.domain.name === name('fail') && e.type === 'stopped'));
    expect(failed).toMatchObject({ detail: 'failed' });
    expect(await f.getState()).toEqual({ state: 'shutoff', reason: 'failed' });
  });

  it('is re-attached by another connection (another process would do the same)', async () => {
    const d = await conn.lookupDomainByName(name('crash'));
    expect(d.id).toBeGreaterThan(0);
    const other = await open();
    try {
      const seen = await other.lookupDomainByName(name('crash'));
      expect(seen.id).toBe(d.id);
      expect((await seen.getState()).state).toBe('running');
      await seen.destroy();
    } finally {
      await other.close();
    }
    expect((await d.getState()).state).toBe('shutoff');
    // The other connection's stop reaches this one's listeners too.
    await waitFor('the replayed stop', () => events.find((e) => e.kind === 'domain' && e.domain.name === name('crash') && e.type === 'stopped' && e.detail === 'destroyed'));
    const ro = await open(true);
    try {
      await expect((await ro.lookupDomainByName(name('crash'))).start()).rejects.toMatchObject({ code: 'OPERATION_DENIED' });
    } finally {
      await ro.close();
    }
  });

  it('autostarts marked domains once per boot of the runtime folder', async () => {
    const d = await define('auto');
    await d.setAutostart(true);
    expect(await d.getAutostart()).toBe(true);
    await unlink(join(root, 'run', 'lxc', 'autostarted'));
    const other = await open();
    try {
      expect((await other.lookupDomainByName(name('auto'))).id).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
    await d.setAutostart(false);
    await d.destroy();
  });

  it('changes CPU shares live and refuses what it cannot do', async () => {
    const d = await define('tune', { extra: '  <cputune><shares>512</shares></cputune>\n' });
    await d.start();
    const pid = containerInitPid(lxcpath(), name('tune'))!;
    const sharesFile = (await readProcessCgroupFile(pid, 'cpu', 'cpu.shares')) !== undefined ? 'cpu.shares' : 'cpu.weight';
    if (sharesFile === 'cpu.shares') expect(await readProcessCgroupFile(pid, 'cpu', 'cpu.shares')).toBe('512');
    await d.setSchedulerParams({ cpu_shares: 2048 }, { live: true });
    if (sharesFile === 'cpu.shares') expect(await readProcessCgroupFile(pid, 'cpu', 'cpu.shares')).toBe('2048');
    expect((await d.getSchedulerParams()).cpu_shares).toBe(2048);
    expect(await d.getXmlDesc()).toContain('<shares>2048</shares>');
    expect(await d.getXmlDesc({ inactive: true })).toContain('<shares>512</shares>');
    await expect(d.setSchedulerParams({ weight: 3 })).rejects.toMatchObject({ code: 'INVALID_ARG' });
    await expect(d.setVcpus(2)).rejects.toMatchObject({ code: 'NO_SUPPORT' });
    await expect(d.attachDevice("<disk type='file'><source file='/x'/><target dev='vda'/></disk>")).rejects.toMatchObject({ code: 'NO_SUPPORT' });
    await expect(d.save('/tmp/x.save')).rejects.toMatchObject({ code: 'NO_SUPPORT' });
    await expect(d.shutdown({ modes: ['acpi'] })).rejects.toBeInstanceOf(VirtError);
    await d.destroy();
  });

  it('starts paused on a read-only root, and stops gracefully', async () => {
    const xml = containerXml(name('ro'), rootfs).replace("<target dir='/'/>", "<target dir='/'/>\n      <readonly/>");
    const d = await conn.defineDomainXml(xml);
    uuids.push(d.uuid);
    await d.start({ paused: true });
    expect(await d.getState()).toEqual({ state: 'paused', reason: 'user' });
    await d.resume();
    const r = inside('ro', 'touch /root/x 2>&1; grep " / " /proc/mounts | head -1');
    expect(r.stdout).toMatch(/Read-only|ro,/);
    await d.destroy({ graceful: true });
    expect(await d.getState()).toEqual({ state: 'shutoff', reason: 'destroyed' });
    await d.undefine();
  });

  it('converts between domain XML and LXC configs', async () => {
    const xml = await conn.domainXmlFromNative('lxc-tools', `lxc.uts.name = ${name('native')}\nlxc.rootfs.path = ${rootfs}\nlxc.net.0.type = empty\n`);
    expect(xml).toContain(`<name>${name('native')}</name>`);
    const native = await conn.domainXmlToNative('lxc-tools', containerXml(name('native'), rootfs));
    expect(native).toContain(`lxc.rootfs.path = dir:${rootfs}`);
    await expect(conn.domainXmlToNative('qemu-argv', containerXml('x', rootfs))).rejects.toMatchObject({ code: 'INVALID_ARG' });
  });

  it('refuses a definition it cannot start, leaving nothing behind', async () => {
    const d = await conn.defineDomainXml(containerXml(name('broken'), join(rootfs, 'no-such-dir')));
    uuids.push(d.uuid);
    await expect(d.start()).rejects.toMatchObject({ code: 'CONFIG_UNSUPPORTED' });
    expect((await d.getState()).state).toBe('shutoff');
    const e = await conn.defineDomainXml(containerXml(name('noinit'), rootfs, { init: ['/no/such/init'] }));
    uuids.push(e.uuid);
    await expect(e.start()).rejects.toMatchObject({ code: 'OPERATION_FAILED' });
    expect((await e.getState()).state).toBe('shutoff');
    await d.undefine();
    await e.undefine();
  });
});
