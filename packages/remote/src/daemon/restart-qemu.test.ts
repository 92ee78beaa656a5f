import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, parseUri, stateDirsFor, type DomainHandle, type VirtError } from '@virtkit/core';
import { SerialConsole, TEST_GUEST_PROMPT } from '@virtkit/driver-qemu/test-support';
import { stopAllDaemons } from '../test-support/daemon-process.js';
import { HAVE_QEMU, qemuPidsOf, startQemuDaemon, type QemuDaemon } from '../test-support/qemu.js';

// restart.test.ts does this with a stub driver; here the guests are real
// QEMU processes whose monitors the daemon holds when it dies.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitState(d: DomainHandle, state: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const s = (await d.getState()).state;
    if (s === state) return;
    if (Date.now() > end) throw new Error(`domain '${d.name}' is ${s}, not ${state}, after ${ms} ms`);
    await sleep(200);
  }
}

/** Waits for the shell prompt, pressing Enter now and then (a prompt printed before we attached is gone). */
async function reachPrompt(serial: SerialConsole, ms: number): Promise<void> {
  serial.write('\n');
  const poke = setInterval(() => serial.write('\n'), 2000);
  try {
    await serial.waitFor(TEST_GUEST_PROMPT, ms);
  } finally {
    clearInterval(poke);
  }
}

describe.skipIf(!HAVE_QEMU)('kill -9 of virtkitd while QEMU guests run', () => {
  let q: QemuDaemon | undefined;
  const uri = () => `qemu+unix:///system?socket=${q!.daemon.rw}`;

  beforeAll(async () => {
    q = await startQemuDaemon();
  }, 120_000);
  afterAll(async () => {
    await q?.stop();
    await stopAllDaemons();
  }, 60_000);

  it('fails the calls in flight clearly; after a restart every guest is there and answers', async () => {
    const c = await Connection.open(uri());
    const a = await c.defineDomainXml(q!.domainXml('kq-a'));
    const b = await c.defineDomainXml(q!.domainXml('kq-b'));
    await a.start();
    await b.start();
    const ids = [a.id, b.id];
    const pids = qemuPidsOf(q!.root);
    expect(pids).toHaveLength(2);

    // A console stream, and calls always in flight (reads, and changes holding job locks) when the daemon dies.
    const consoleStream = await a.openConsole();
    const consoleGone = new Promise<void>((resolve) => {
      consoleStream.once('close', () => resolve());
      consoleStream.once('error', () => resolve());
    });
    consoleStream.resume();
    const failures: unknown[] = [];
    let completed = 0;
    const loop = async (fn: () => Promise<unknown>) => {
      for (;;) {
        try {
          await fn();
          completed++;
        } catch (err) {
          failures.push(err);
          return;
        }
      }
    };
    let autostart = false;
    const loops = [
      loop(() => a.getInfo()),
      loop(() => b.getStats()),
      loop(() => c.listAllDomains()),
      loop(() => a.getXmlDesc()),
      // A change under the domain's job lock. (Not suspend/resume: a kill between QEMU's `stop` and the
      // driver's state record leaves a paused guest the QEMU driver believes running; see the README.)
      loop(async () => {
        autostart = !autostart;
        await b.setAutostart(autostart);
      }),
    ];
    while (completed < 30) await sleep(5);
    await q!.daemon.kill9();
    await Promise.all(loops);
    await consoleGone;

    expect(failures).toHaveLength(loops.length);
    const codes = failures.map((e) => (e as VirtError).code);
    for (const code of codes) expect(['RPC', 'INVALID_CONN']).toContain(code);
    const inFlight = failures.filter((e) => (e as VirtError).code === 'RPC');
    expect(inFlight.length).toBeGreaterThan(0);
    for (const err of inFlight) expect((err as Error).message).toMatch(/lost the connection to virtkitd at unix:.*while the call was in flight.*start it again/);
    expect(((await c.getHostname().catch((e: unknown) => e)) as VirtError).code).toBe('INVALID_CONN');
    const down = await Connection.open(uri()).catch((e: unknown) => e);
    expect((down as VirtError).code).toBe('NO_CONNECT');
    expect((down as Error).message).toMatch(/no virtkitd answers at .*start it/);
    await c.close();

    // The guests did not notice.
    expect(qemuPidsOf(q!.root)).toEqual(pids);

    await q!.daemon.restart();
    const c2 = await Connection.open(uri());
    try {
      const doms = await c2.listAllDomains();
      expect(doms.map((d) => d.name).sort()).toEqual(['kq-a', 'kq-b']);
      expect(doms.map((d) => d.id).sort()).toEqual([...ids].sort());
      const a2 = await c2.lookupDomainByName('kq-a');
      const b2 = await c2.lookupDomainByName('kq-b');
      expect((await a2.getState()).state).toBe('running');
      expect((await b2.getState()).state).toBe('running');
      // No job lock of the dead daemon is left behind.
      await b2.setAutostart(false);
      await a2.suspend();
      expect((await a2.getState()).state).toBe('paused');
      await a2.resume();
      expect((await a2.getStats())['state.state']).toBe(1);

      // The console, through the new daemon, reaches the guest's shell (booted: it will honour ACPI below).
      const serial = SerialConsole.fromStream(await b2.openConsole());
      try {
        await reachPrompt(serial, 60_000);
        expect(await serial.run('echo $((6*7))')).toContain('42');
      } finally {
        serial.close();
      }

      // The monitor works after the re-attach: an ACPI shutdown the guest honours, and a destroy.
      await b2.shutdown();
      await waitState(b2, 'shutoff', 45_000);
      await a2.destroy();
      expect((await a2.getState()).state).toBe('shutoff');
      for (let i = 0; i < 50 && qemuPidsOf(q!.root).length; i++) await sleep(100);
      expect(qemuPidsOf(q!.root)).toEqual([]);
      await a2.undefine();
      await b2.undefine();
    } finally {
      await c2.close();
    }
  }, 150_000);

  it('starts the autostart guests when it first opens the URI after a host boot', async () => {
    // Independent of how the test before ended.
    if (q!.daemon.proc.exitCode !== null || q!.daemon.proc.signalCode !== null) await q!.daemon.restart();
    const c = await Connection.open(uri());
    const d = await c.defineDomainXml(q!.domainXml('kq-auto'));
    await d.setAutostart(true);
    await c.close();

    // "Reboot": the daemon gone and the runtime marker with it (/run is emptied at boot).
    await q!.daemon.kill9();
    const runtime = stateDirsFor(parseUri(`qemu:///embed?root=${q!.root}`)).runtime;
    rmSync(join(runtime, 'qemu', 'autostarted'), { force: true });
    await q!.daemon.restart();

    const c2 = await Connection.open(uri());
    try {
      const auto = await c2.lookupDomainByName('kq-auto');
      expect((await auto.getState()).state).toBe('running');
      await auto.destroy();
      await auto.undefine();
    } finally {
      await c2.close();
    }
  }, 60_000);
});
