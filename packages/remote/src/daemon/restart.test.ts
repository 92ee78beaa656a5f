import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, type VirtError } from '@virtkit/core';
import { startDaemon, stopAllDaemons, type RunningDaemon } from '../test-support/daemon-process.js';

// stub:///system under --root keeps its guests as real processes and its
// state in a file, as the QEMU driver does: the daemon holds nothing itself.
let d: RunningDaemon;
const uri = () => `stub+unix:///system?socket=${d.rw}`;

/** A live process, not a zombie nobody reaped (pid 1 of a container may not reap). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

function guestPids(): number[] {
  try {
    const list = JSON.parse(readFileSync(join(d.dir, 'root', 'stub.json'), 'utf8')) as { pid?: number }[];
    return list.map((x) => x.pid).filter((p): p is number => typeof p === 'number');
  } catch {
    return [];
  }
}

beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => {
  // Whatever happened, no guest process outlives the test.
  for (const pid of guestPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await stopAllDaemons();
});

describe('kill -9 of virtkitd', () => {
  it('fails calls in flight clearly, refuses new connections with what to start, and serves the same guests after a restart', async () => {
    const c = await Connection.open(uri());
    const names = ['k1', 'k2', 'k3'];
    for (const n of names) await c.defineDomainXml(`<domain><name>${n}</name></domain>`);
    await (await c.lookupDomainByName('k1')).start();
    await (await c.lookupDomainByName('k2')).start();
    const pidsBefore = guestPids();
    expect(pidsBefore).toHaveLength(2);

    // Calls that will still be running when the daemon dies.
    const k3 = await c.lookupDomainByName('k3');
    const inFlight = Array.from({ length: 5 }, () => k3.getStats(['5000']).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 100));
    await d.kill9();

    for (const err of await Promise.all(inFlight)) {
      expect((err as VirtError).code).toBe('RPC');
      expect((err as Error).message).toMatch(/lost the connection to virtkitd at unix:.*while the call was in flight.*start it again/);
    }
    const later = await c.getHostname().catch((e: unknown) => e);
    expect((later as VirtError).code).toBe('INVALID_CONN');
    const down = await Connection.open(uri()).catch((e: unknown) => e);
    expect((down as VirtError).code).toBe('NO_CONNECT');
    expect((down as Error).message).toMatch(/no virtkitd answers at .*start it/);
    await c.close();

    // The guests did not notice.
    for (const pid of pidsBefore) expect(running(pid)).toBe(true);

    await d.restart();
    const c2 = await Connection.open(uri());
    try {
      const doms = await c2.listAllDomains();
      expect(doms.map((x) => x.name).sort()).toEqual(names);
      expect(doms.filter((x) => x.id >= 0).map((x) => x.name).sort()).toEqual(['k1', 'k2']);
      const k1 = await c2.lookupDomainByName('k1');
      await k1.destroy();
      expect((await k1.getState()).state).toBe('shutoff');
      await new Promise((r) => setTimeout(r, 50));
      expect(running(pidsBefore[0]!)).toBe(false);
      await (await c2.lookupDomainByName('k2')).destroy();
      for (const n of names) await (await c2.lookupDomainByName(n)).undefine();
    } finally {
      await c2.close();
    }
  });
});

describe('autostart', () => {
  it('starts autostart guests when the daemon first opens the URI after a host boot, once', async () => {
    const c = await Connection.open(uri());
    const auto = await c.defineDomainXml('<domain><name>auto1</name></domain>');
    await auto.setAutostart(true);
    await c.defineDomainXml('<domain><name>manual1</name></domain>');
    await c.close();

    // "Reboot": the daemon and every guest gone, the runtime marker too (/run is emptied at boot).
    await d.kill9();
    for (const pid of guestPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(join(d.dir, 'root', 'autostarted'), { force: true });
    const before = d.logs.length;
    await d.restart();

    const c2 = await Connection.open(uri());
    const c3 = await Connection.open(uri());
    try {
      expect((await (await c2.lookupDomainByName('auto1')).getState()).state).toBe('running');
      expect((await (await c2.lookupDomainByName('manual1')).getState()).state).toBe('shutoff');
      const runs = d.logs.slice(before).filter((l) => l.msg === 'autostart');
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ started: ['auto1'], failed: [] });

      // A daemon restart is not a boot: a guest the user stopped stays stopped.
      await (await c2.lookupDomainByName('auto1')).destroy();
    } finally {
      await c2.close();
      await c3.close();
    }
    await d.kill9();
    const again = d.logs.length;
    await d.restart();
    const c4 = await Connection.open(uri());
    try {
      expect((await (await c4.lookupDomainByName('auto1')).getState()).state).toBe('shutoff');
      expect(d.logs.slice(again).some((l) => l.msg === 'autostart')).toBe(false);
      for (const n of ['auto1', 'manual1']) await (await c4.lookupDomainByName(n)).undefine();
    } finally {
      await c4.close();
    }
  });

  it('opens the autostart_uris at start, without waiting for a client', async () => {
    const c = await Connection.open(uri());
    await (await c.defineDomainXml('<domain><name>auto2</name></domain>')).setAutostart(true);
    await c.close();
    await d.kill9();
    rmSync(join(d.dir, 'root', 'autostarted'), { force: true });

    // Another daemon on the same folder, told to open stub:///system (its --root's) at start.
    const booted = await startDaemon({ dir: d.dir, config: 'autostart_uris = [ "stub:///system" ]\n' });
    try {
      const run = await booted.waitLog((l) => l.msg === 'autostart', 10_000);
      expect(run).toMatchObject({ started: ['auto2'], failed: [] });
      expect(booted.logs.some((l) => l.msg === 'client connected')).toBe(false);
      const c2 = await Connection.open(`stub+unix:///system?socket=${booted.rw}`);
      try {
        const auto = await c2.lookupDomainByName('auto2');
        expect((await auto.getState()).state).toBe('running');
        await auto.destroy();
        await auto.undefine();
      } finally {
        await c2.close();
      }
    } finally {
      await booted.stop();
    }
  });
});
