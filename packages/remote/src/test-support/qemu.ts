import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTestGuest, killQemusMatching, testGuestDomainXml, type TestGuest, type TestGuestXmlOptions } from '@virtkit/driver-qemu/test-support';
import { startDaemon, type DaemonStartOptions, type RunningDaemon } from './daemon-process.js';

/** Whether real QEMU guests can run here (CI has QEMU; a machine without it skips these files). */
export const HAVE_QEMU = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v qemu-img'], { stdio: 'ignore' }).status === 0;

/** A virtkitd with `--root` serving QEMU guests (qemu:///system → embed?root=ROOT), and the test guest. */
export interface QemuDaemon {
  daemon: RunningDaemon;
  /** The daemon's --root: every QEMU it starts has it on its command line. */
  root: string;
  guest: TestGuest;
  /** The test guest's domain XML with this name (and UUID). */
  domainXml(name: string, o?: TestGuestXmlOptions): string;
  /** Kills every QEMU of this root (by pid), then stops the daemon and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts the daemon and builds (or reuses the cached) test guest. `stop`
 * is safe to call after a failure at any point, and twice.
 */
export async function startQemuDaemon(o: DaemonStartOptions = {}): Promise<QemuDaemon> {
  const guest = await buildTestGuest();
  const daemon = await startDaemon(o);
  const root = join(daemon.dir, 'root');
  return {
    daemon,
    root,
    guest,
    domainXml: (name, x = {}) => testGuestDomainXml(guest, name, x),
    async stop() {
      // Guests outlive the daemon by design: they go by pid, before their folders.
      await killQemusMatching(root);
      await daemon.stop();
      await killQemusMatching(root);
    },
  };
}

/** Kills the QEMUs of every root in `roots` (afterAll of files that start guests outside a QemuDaemon). */
export async function killQemusOf(roots: string[]): Promise<void> {
  for (const r of roots) if (r) await killQemusMatching(r);
}

/** Pids of the live QEMU processes whose command line mentions `marker` (a daemon's root). */
export function qemuPidsOf(marker: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (!/qemu-system/.test(argv[0] ?? '') || !argv.some((a) => a.includes(marker))) continue;
      // A zombie nobody reaped is not a running guest.
      if (/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${e}/stat`, 'utf8'))) continue;
      pids.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids.sort((a, b) => a - b);
}
