import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtError, type Connection, type VirtEvent } from '@virtkit/core';
import { listNamespaces } from '@virtkit/network-linux/testing';
import { buildTestGuest, SerialConsole, testGuestDomainXml, type TestGuest } from '../../test-support.js';
import { TwoHosts, twoHostsSkipReason, type Host } from './two-hosts.testlib.js';

// Live migration between two hosts on one machine (see two-hosts.testlib.ts):
// the test guest moves A → B → A over qemu+ssh with shared NFS storage, once
// with its disk copied over NBD, once tunnelled, and each failure — the
// destination refusing, domjobabort, the link between the hosts cut, the
// destination's daemon killed — leaves it running on the source with nothing
// on the destination. The guest's shell on its serial console says it is the
// same guest throughout (uptime goes on, a file in its RAM stays).

const skip = twoHostsSkipReason();
const UUID = '6d1c7a52-0f3e-4b8e-9d7a-3e5b2f4c1a90';
const COPY_UUID = '6d1c7a52-0f3e-4b8e-9d7a-3e5b2f4c1a91';
// Migrations that must not converge by themselves: a guest rewriting 32 MiB of random data, sent at 32 MiB/s.
const SLOW = { bandwidth: 32 };

describe.skipIf(!!skip)('live migration between two hosts', () => {
  const lab = new TwoHosts();
  let guest: TestGuest;
  let a: Connection;
  let b: Connection;
  const events: Record<'A' | 'B', string[]> = { A: [], B: [] };

  const conn = (h: Host) => (h.name === 'A' ? a : b);
  const domainXml = (name: string, uuid: string, pool: string, volume: string) =>
    testGuestDomainXml(guest, name, {
      uuid,
      devices: `<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='${pool}' volume='${volume}'/><target dev='vda' bus='virtio'/></disk>`,
    });

  /** Runs a command in the guest's shell through the console of the host it runs on. */
  async function inGuest(h: Host, name: string, command: string): Promise<string> {
    const d = await conn(h).lookupDomainByName(name);
    const con = SerialConsole.fromStream(await d.openConsole());
    try {
      con.write('\n');
      await con.waitFor(guest.prompt, 30_000);
      return await con.run(command, 30_000);
    } finally {
      con.close();
    }
  }

  const uptime = async (h: Host, name: string) => Number((await inGuest(h, name, 'cut -d" " -f1 /proc/uptime')).trim());

  /** What is left of a domain on a host: its state there, or `none`. */
  async function stateOn(h: Host, name: string): Promise<string> {
    const d = await conn(h).lookupDomainByName(name).catch(() => undefined);
    if (!d) return 'none';
    const s = await d.getState();
    return `${s.state} (${s.reason})`;
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Nothing of `name` on host `h`: no domain (or only `keep`), no QEMU of that host. */
  async function expectNothingOn(h: Host, name: string, keep?: string): Promise<void> {
    await waitFor(`host ${h.name} to hold nothing of '${name}'`, async () => {
      const left = (await conn(h).listAllDomains()).filter((d) => d.name === name && d.uuid !== keep);
      return left.length === 0 && lab.qemuPids(h, name).length === 0 ? true : undefined;
    }, 20_000);
  }

  /** The first bytes of the guest's disk, read past its page cache. */
  async function readDisk(h: Host, name: string, n: number): Promise<string> {
    await inGuest(h, name, 'sync; echo 3 >/proc/sys/vm/drop_caches');
    return inGuest(h, name, `head -c ${n} /dev/vda; echo`);
  }

  /** A job that is an outgoing migration past its start. */
  const outgoing = (j: { type: string; operation?: string; memProcessed?: number }) => (j.type === 'unbounded' && j.operation === 'migration-out' && j.memProcessed ? true : undefined);

  /** Makes the guest rewrite 32 MiB of its memory over and over (a migration then needs a bandwidth cap, a timeout or post-copy to end). */
  async function dirtyMemory(h: Host, name: string): Promise<void> {
    await inGuest(h, name, 'dd if=/dev/urandom of=/tmp/r bs=1M count=32 2>/dev/null; (while :; do cat /tmp/r > /tmp/x; done) >/dev/null 2>&1 & echo started');
  }

  async function stopDirtying(h: Host, name: string): Promise<void> {
    await inGuest(h, name, 'kill %1 2>/dev/null; kill $(pidof cat) 2>/dev/null; rm -f /tmp/x /tmp/r; echo stopped');
  }

  beforeAll(async () => {
    guest = await buildTestGuest();
    await lab.start();
    a = await lab.open(lab.A);
    b = await lab.open(lab.B);
    for (const h of [lab.A, lab.B]) {
      conn(h).on('domain', (e: VirtEvent) => {
        if (e.kind === 'domain') events[h.name].push(`${e.domain.name} ${e.type} ${e.detail}`);
      });
      await lab.definePools(h);
    }
    const shared = await a.lookupStoragePool('shared');
    await shared.createVolumeXml(`<volume><name>mig.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>`);
    await (await b.lookupStoragePool('shared')).refresh();
    const local = await a.lookupStoragePool('local');
    await local.createVolumeXml(`<volume><name>copy.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>`);
    const d = await a.defineDomainXml(domainXml('mig', UUID, 'shared', 'mig.qcow2'));
    await d.start();
    await inGuest(lab.A, 'mig', 'echo guest-state-123 > /tmp/state; printf virtkit-shared-disk | dd of=/dev/vda conv=fsync 2>/dev/null; echo ok');
  }, 240_000);

  afterAll(async () => {
    await lab.cleanup();
    // Nothing may stay: namespaces, links, QEMUs, daemons of this run, the work folder.
    expect(listNamespaces().filter((n) => n.startsWith(lab.prefix))).toEqual([]);
    expect(execFileSync('ip', ['-o', 'link', 'show']).toString()).not.toContain(lab.prefix);
    expect(execFileSync('ps', ['-eo', 'args=']).toString().split('\n').filter((l) => l.includes(lab.dir))).toEqual([]);
    expect(existsSync(lab.dir)).toBe(false);
  }, 120_000);

  it('moves the running guest A → B over qemu+ssh with shared NFS storage (virtkit migrate --live --verbose)', async () => {
    const before = await uptime(lab.A, 'mig');
    events.A.length = 0;
    events.B.length = 0;
    // The client reaches both hosts over SSH; the stream takes the link between the hosts (MIGRATE_URI).
    const r = await lab.cli(['-c', lab.A.sshUri, 'migrate', '--live', '--verbose', 'mig', lab.B.sshUri, `tcp://${lab.B.peerAddr}`]);
    expect(r.stderr).toContain('Migration: [100 %]');
    expect(r.code, r.stderr).toBe(0);
    expect(await stateOn(lab.B, 'mig')).toBe('running (migrated)');
    // Defined where it was: the source keeps its definition, shut off because it migrated.
    expect(await stateOn(lab.A, 'mig')).toBe('shutoff (migrated)');
    expect(await uptime(lab.B, 'mig')).toBeGreaterThan(before);
    expect(await inGuest(lab.B, 'mig', 'cat /tmp/state')).toBe('guest-state-123');
    expect(await readDisk(lab.B, 'mig', 19)).toBe('virtkit-shared-disk');
    await waitFor('the events', async () => (events.A.length >= 2 && events.B.length >= 2 ? true : undefined), 5000).catch(() => {});
    expect(events.A).toEqual(['mig suspended migrated', 'mig stopped migrated']);
    expect(events.B).toEqual(['mig started migrated', 'mig resumed migrated']);
    // The destination has the job's statistics (as libvirt's cookie carries them).
    const info = await lab.cli(['-c', lab.B.unixUri, 'domjobinfo', 'mig', '--completed']);
    expect(info.stdout).toMatch(/^Job type: {9}Completed {3}\nOperation: {8}Incoming migration\nTime elapsed: {5}\d+ +ms\n/);
    expect(info.stdout).toMatch(/\nMemory total: {5}256\.\d{3} MiB\n/);
    expect(info.stdout).toMatch(/\nTotal downtime: {3}\d+ +ms\n/);
  }, 120_000);

  it('brings it back B → A peer-to-peer (virtkit migrate --p2p: host B connects to host A itself)', async () => {
    const before = await uptime(lab.B, 'mig');
    const r = await lab.cli(['-c', lab.B.sshUri, 'migrate', '--live', '--p2p', '--persistent', 'mig', lab.A.peerSshUri]);
    expect(r.code, r.stderr).toBe(0);
    expect(await stateOn(lab.A, 'mig')).toBe('running (migrated)');
    expect((await (await a.lookupDomainByName('mig')).refresh()).persistent).toBe(true);
    expect(await stateOn(lab.B, 'mig')).toBe('none');
    expect(lab.qemuPids(lab.B, 'mig')).toEqual([]);
    expect(await uptime(lab.A, 'mig')).toBeGreaterThan(before);
  }, 120_000);

  it('migrates tunnelled through the daemons\' connection (--p2p --tunnelled), persistent and undefined at the source, and back, with progress at the client', async () => {
    const before = await uptime(lab.A, 'mig');
    const progress: number[] = [];
    await (await a.lookupDomainByName('mig')).migrate(lab.B.peerSshUri, {
      live: true, peer2peer: true, tunnelled: true, persistent: true, undefineSource: true, onProgress: (p) => progress.push(p.processed),
    });
    expect(await stateOn(lab.B, 'mig')).toBe('running (migrated)');
    expect((await (await b.lookupDomainByName('mig')).refresh()).persistent).toBe(true);
    // --undefinesource: nothing of it stays on A.
    expect(await stateOn(lab.A, 'mig')).toBe('none');
    expect(progress.length).toBeGreaterThan(0);
    expect(await uptime(lab.B, 'mig')).toBeGreaterThan(before);
    await (await b.lookupDomainByName('mig')).migrate(lab.A.peerSshUri, { live: true, peer2peer: true, persistent: true, undefineSource: true });
    expect(await stateOn(lab.A, 'mig')).toBe('running (migrated)');
    expect((await (await a.lookupDomainByName('mig')).refresh()).persistent).toBe(true);
    expect(await stateOn(lab.B, 'mig')).toBe('none');
  }, 120_000);

  it('Ctrl-C during a storage copy leaves no copied disk on the destination; a finished one moves the disk over NBD (--copy-storage-all)', async () => {
    await a.createDomainXml(domainXml('copy', COPY_UUID, 'local', 'copy.qcow2'));
    await inGuest(lab.A, 'copy', 'printf virtkit-local-disk | dd of=/dev/vda conv=fsync 2>/dev/null; echo ok');
    const hasVolume = async () => (await (await b.lookupStoragePool('local')).listAllVolumes()).some((v) => v.name === 'copy.qcow2');
    // Without --copy-storage-* a local disk makes the migration unsafe.
    const unsafe = await lab.cli(['-c', lab.A.sshUri, 'migrate', '--live', 'copy', lab.B.sshUri]);
    expect(unsafe.code).toBe(1);
    expect(unsafe.stderr).toContain('Migration without shared storage is unsafe');

    await dirtyMemory(lab.A, 'copy');
    const child = lab.cliProcess(['-c', lab.A.sshUri, 'migrate', '--live', '--copy-storage-all', '--bandwidth', '32', 'copy', lab.B.sshUri, `tcp://${lab.B.peerAddr}`]);
    let childErr = '';
    child.stderr!.on('data', (x: Buffer) => (childErr += x.toString()));
    const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
    const d = await a.lookupDomainByName('copy');
    await waitFor('the memory phase after the disk copy', async () => outgoing(await d.getJobInfo()));
    expect(await hasVolume()).toBe(true);
    // Ctrl-C at the terminal: the CLI aborts the migration (and rolls both hosts back) before it exits.
    child.kill('SIGINT');
    expect(await exited, childErr).toBe(1);
    expect(childErr).toMatch(/Migration cancelled by the user|cancelled|aborted/);
    expect(await stateOn(lab.A, 'copy')).toBe('running (booted)');
    await expectNothingOn(lab.B, 'copy');
    expect(existsSync(join(lab.B.root, 'local', 'copy.qcow2'))).toBe(false);
    expect(await hasVolume()).toBe(false);
    await stopDirtying(lab.A, 'copy');

    const r = await lab.cli(['-c', lab.A.sshUri, 'migrate', '--live', '--copy-storage-all', 'copy', lab.B.sshUri, `tcp://${lab.B.peerAddr}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(await stateOn(lab.B, 'copy')).toBe('running (migrated)');
    expect(await stateOn(lab.A, 'copy')).toBe('none');
    expect(await hasVolume()).toBe(true);
    expect(existsSync(join(lab.B.root, 'local', 'copy.qcow2'))).toBe(true);
    expect(await readDisk(lab.B, 'copy', 18)).toBe('virtkit-local-disk');
    // The source's image stays where it was (libvirt leaves it too).
    expect(existsSync(join(lab.A.root, 'local', 'copy.qcow2'))).toBe(true);
    await (await b.lookupDomainByName('copy')).destroy();
    await (await (await b.lookupStoragePool('local')).lookupVolume('copy.qcow2')).delete();
  }, 180_000);

  it('a destination that refuses (a domain of that name exists there) leaves the guest running at the source', async () => {
    const OTHER = '6d1c7a52-0f3e-4b8e-9d7a-3e5b2f4c1a92';
    const other = await b.defineDomainXml(domainXml('mig', OTHER, 'shared', 'mig.qcow2'));
    const before = await uptime(lab.A, 'mig');
    const r = await lab.cli(['-c', lab.A.sshUri, 'migrate', '--live', 'mig', lab.B.sshUri, `tcp://${lab.B.peerAddr}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("domain 'mig' already exists");
    expect(await stateOn(lab.A, 'mig')).toMatch(/^running/);
    expect(await uptime(lab.A, 'mig')).toBeGreaterThan(before);
    await expectNothingOn(lab.B, 'mig', OTHER);
    await other.undefine();
  }, 120_000);

  it('domjobinfo follows a running migration on both hosts; domjobabort cancels it and the guest runs on at the source', async () => {
    await dirtyMemory(lab.A, 'mig');
    const child = lab.cliProcess(['-c', lab.A.sshUri, 'migrate', '--live', '--verbose', '--bandwidth', '32', 'mig', lab.B.sshUri, `tcp://${lab.B.peerAddr}`]);
    let stderr = '';
    child.stderr!.on('data', (x: Buffer) => (stderr += x.toString()));
    const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
    const info = await waitFor('the outgoing job', async () => {
      const r = await lab.cli(['-c', lab.A.unixUri, 'domjobinfo', 'mig']);
      // (The CLI ends each command's output with a blank line, as virsh does.)
      return /Memory processed: +[1-9]/.test(r.stdout) && /Iteration: +[1-9]/.test(r.stdout) ? r.stdout.replace(/\n+$/, '\n') : undefined;
    });
    // virsh's layout: %-17s labels, %-12llu numbers, sizes with three decimals.
    expect(info, info).toMatch(
      new RegExp(
        '^Job type: {9}Unbounded {3}\nOperation: {8}Outgoing migration\nTime elapsed: {5}\\d+ +ms\n' +
          'Data processed: {3}\\d+\\.\\d{3} [KMG]?i?B\nData remaining: {3}\\d+\\.\\d{3} [KMG]?i?B\nData total: {7}256\\.\\d{3} MiB\n' +
          'Memory processed: \\d+\\.\\d{3} [KMG]?i?B\nMemory remaining: \\d+\\.\\d{3} [KMG]?i?B\nMemory total: {5}256\\.\\d{3} MiB\n' +
          '(Memory bandwidth: \\d+\\.\\d{3} [KMG]?i?B/s\n)?Dirty rate: {7}\\d+ +pages/s\nPage size: {8}4096 +bytes\nIteration: {8}\\d+ *\nPostcopy requests: 0 *\n' +
          'Constant pages: {3}\\d+ *\nNormal pages: {5}\\d+ *\nNormal data: {6}\\d+\\.\\d{3} [KMG]?i?B\nExpected downtime: \\d+ +ms\nSetup time: {7}\\d+ +ms\n$',
      ),
    );
    const json = JSON.parse((await lab.cli(['-c', lab.A.unixUri, 'domjobinfo', 'mig', '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ type: 'unbounded', operation: 'migration-out' });
    expect(Number(json.memTotal)).toBeGreaterThan(256 * 1024 * 1024);
    expect(await stateOn(lab.B, 'mig')).toBe('paused (migration)');
    // The destination has its side of the job.
    expect((await lab.cli(['-c', lab.B.unixUri, 'domjobinfo', 'mig'])).stdout).toMatch(/^Job type: {9}Unbounded {3}\nOperation: {8}Incoming migration\nTime elapsed: +\d+ +ms\n/);
    const before = await uptime(lab.A, 'mig');
    const abort = await lab.cli(['-c', lab.A.unixUri, 'domjobabort', 'mig']);
    expect(abort.code, abort.stderr).toBe(0);
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/Migration: \[ *\d+ %\]/);
    expect(stderr).toMatch(/error: .*(cancel|abort)/i);
    expect(await stateOn(lab.A, 'mig')).toMatch(/^running/);
    expect(await uptime(lab.A, 'mig')).toBeGreaterThan(before);
    expect((await (await a.lookupDomainByName('mig')).getJobInfo({ completed: true })).type).toBe('cancelled');
    await expectNothingOn(lab.B, 'mig');
  }, 120_000);

  it('cutting the link between the hosts fails the migration: the guest runs on at A and B removes what it prepared', async () => {
    const d = await a.lookupDomainByName('mig');
    const migrating = d.migrate(lab.B.peerSshUri, { live: true, peer2peer: true, ...SLOW }).then(() => 'migrated', (e: unknown) => e);
    await waitFor('the migration to run', async () => outgoing(await d.getJobInfo()));
    expect(await stateOn(lab.B, 'mig')).toBe('paused (migration)');
    lab.setPeerLink(false);
    try {
      const err = await migrating;
      expect(err).toBeInstanceOf(VirtError);
      expect((err as VirtError).message).toMatch(/lost the connection|broke|failed/);
      expect(await stateOn(lab.A, 'mig')).toMatch(/^running/);
      // B learns that its client (A's daemon) is gone from keepalive, then cancels the incoming migration itself.
      await expectNothingOn(lab.B, 'mig');
    } finally {
      lab.setPeerLink(true);
    }
    expect(Number(await inGuest(lab.A, 'mig', 'echo $((40+2))'))).toBe(42);
  }, 120_000);

  it('killing the destination daemon fails the migration: the guest runs on at A and B, restarted, holds nothing', async () => {
    const d = await a.lookupDomainByName('mig');
    const migrating = d.migrate(lab.B.peerSshUri, { live: true, peer2peer: true, ...SLOW }).then(() => 'migrated', (e: unknown) => e);
    await waitFor('the migration to run', async () => outgoing(await d.getJobInfo()));
    const daemon = lab.B.daemon!.child;
    daemon.kill('SIGKILL');
    await new Promise((r) => (daemon.exitCode !== null || daemon.signalCode !== null ? r(null) : daemon.once('exit', r)));
    expect(await migrating).toBeInstanceOf(VirtError);
    expect(await stateOn(lab.A, 'mig')).toMatch(/^running/);
    await lab.startDaemon(lab.B);
    b = await lab.open(lab.B);
    b.on('domain', (e: VirtEvent) => {
      if (e.kind === 'domain') events.B.push(`${e.domain.name} ${e.type} ${e.detail}`);
    });
    await expectNothingOn(lab.B, 'mig');
    expect(Number(await inGuest(lab.A, 'mig', 'echo $((40+2))'))).toBe(42);
  }, 120_000);

  it('killing the source daemon: the destination drops what it prepared, the restarted source daemon lets the guest run on', async () => {
    const d = await a.lookupDomainByName('mig');
    const migrating = d.migrate(lab.B.peerSshUri, { live: true, peer2peer: true, ...SLOW }).then(() => 'migrated', (e: unknown) => e);
    await waitFor('the migration to run', async () => outgoing(await d.getJobInfo()));
    const daemon = lab.A.daemon!.child;
    daemon.kill('SIGKILL');
    await new Promise((r) => (daemon.exitCode !== null || daemon.signalCode !== null ? r(null) : daemon.once('exit', r)));
    expect(await migrating).toBeInstanceOf(VirtError);
    // B's daemon lost the connection that prepared the migration: it cancels it by itself.
    await expectNothingOn(lab.B, 'mig');
    await lab.startDaemon(lab.A);
    a = await lab.open(lab.A);
    a.on('domain', (e: VirtEvent) => {
      if (e.kind === 'domain') events.A.push(`${e.domain.name} ${e.type} ${e.detail}`);
    });
    // The first look at the domain finds the migration mark of a dead process and undoes the migration.
    await waitFor('the guest to run on at A', async () => ((await stateOn(lab.A, 'mig')).startsWith('running') ? true : undefined));
    expect(Number(await inGuest(lab.A, 'mig', 'echo $((40+2))'))).toBe(42);
  }, 120_000);

  it('--timeout with --timeout-suspend ends a migration that does not converge by pausing the guest for the last copy', async () => {
    const before = await uptime(lab.A, 'mig');
    events.A.length = 0;
    const r = await lab.cli(['-c', lab.A.sshUri, 'migrate', '--live', '--p2p', '--timeout', '3', '--timeout-suspend', '--bandwidth', '32', 'mig', lab.B.peerSshUri]);
    expect(r.code, r.stderr).toBe(0);
    expect(await stateOn(lab.B, 'mig')).toBe('running (migrated)');
    await waitFor('the suspend event', async () => (events.A.includes('mig suspended migrated') ? true : undefined), 10_000).catch(() => {});
    expect(events.A).toContain('mig suspended migrated');
    expect(await uptime(lab.B, 'mig')).toBeGreaterThan(before);
  }, 120_000);

  it('post-copy: --timeout-postcopy switches by itself, migrate-postcopy on request; the guest ends up running at the destination', async () => {
    events.A.length = 0;
    events.B.length = 0;
    const r = await lab.cli(['-c', lab.B.sshUri, 'migrate', '--live', '--postcopy', '--timeout', '3', '--timeout-postcopy', '--bandwidth', '32', 'mig', lab.A.sshUri, `tcp://${lab.A.peerAddr}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(await stateOn(lab.A, 'mig')).toMatch(/^running/);
    expect(await stateOn(lab.B, 'mig')).toBe('none');
    // Events cross the watchers' own connections: they may land just after the migrate command returns.
    await waitFor('the post-copy events', async () => (events.B.includes('mig suspended postcopy') && events.A.includes('mig resumed postcopy') ? true : undefined), 10_000).catch(() => {});
    expect(events.B).toContain('mig suspended postcopy');
    expect(events.A).toContain('mig resumed postcopy');

    const child = lab.cliProcess(['-c', lab.A.sshUri, 'migrate', '--live', '--postcopy', '--bandwidth', '32', 'mig', lab.B.sshUri, `tcp://${lab.B.peerAddr}`]);
    const exited = new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
    const d = await a.lookupDomainByName('mig');
    await waitFor('the migration to run', async () => outgoing(await d.getJobInfo()));
    const pc = await lab.cli(['-c', lab.A.unixUri, 'migrate-postcopy', 'mig']);
    expect(pc.code, pc.stderr).toBe(0);
    expect(await exited).toBe(0);
    expect(await stateOn(lab.B, 'mig')).toMatch(/^running/);
    await stopDirtying(lab.B, 'mig');
    expect(await inGuest(lab.B, 'mig', 'cat /tmp/state')).toBe('guest-state-123');
  }, 180_000);

  it('--offline --persistent moves only the definition of a guest that does not run', async () => {
    const OFF = '6d1c7a52-0f3e-4b8e-9d7a-3e5b2f4c1a93';
    await a.defineDomainXml(domainXml('cold', OFF, 'shared', 'mig.qcow2'));
    const r = await lab.cli(['-c', lab.A.sshUri, 'migrate', '--offline', '--persistent', '--undefinesource', 'cold', lab.B.sshUri]);
    expect(r.code, r.stderr).toBe(0);
    expect(await stateOn(lab.B, 'cold')).toBe('shutoff (unknown)');
    expect(await stateOn(lab.A, 'cold')).toBe('none');
    expect(lab.qemuPids(lab.B, 'cold')).toEqual([]);
    await (await b.lookupDomainByName('cold')).undefine();
  }, 60_000);
});
