import { readFile, writeFile } from 'node:fs/promises';
import type { AutostartReport } from '@virtkit/core';
import type { QemuDomains } from './domains.js';

/** What an autostart run did (core's AutostartReport, which virtkitd logs). */
export type AutostartResult = AutostartReport;

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
}

/**
 * Starts every inactive domain marked for autostart, as libvirt does when
 * its daemon starts. A failure of one guest does not stop the others.
 */
export async function startAutostartDomains(d: QemuDomains): Promise<AutostartResult> {
  const res: AutostartResult = { started: [], failed: [] };
  for (const name of await d.ctx.store.autostartNames()) {
    try {
      const v = await d.views.byName(name);
      if (!v?.config || v.record?.process) continue;
      await d.startDomain(v.uuid);
      res.started.push(name);
    } catch (err) {
      res.failed.push({ name, error: (err as Error).message });
    }
  }
  return res;
}

/**
 * Autostart without a daemon: the first time the driver is opened after
 * the host booted (a marker in the runtime folder holds the boot id), the
 * autostart domains are started. virtkitd gets the report through the
 * driver's `startAutostart` hook.
 */
export async function autostartOncePerBoot(d: QemuDomains): Promise<AutostartResult | undefined> {
  const names = await d.ctx.store.autostartNames();
  const marker = d.paths.autostartDoneFile;
  const id = await bootId();
  if ((await readFile(marker, 'utf8').catch(() => '')).trim() === id) return undefined;
  await d.ctx.store.ensureDirs();
  return d.lockDriver('autostart', async () => {
    if ((await readFile(marker, 'utf8').catch(() => '')).trim() === id) return undefined;
    await writeFile(marker, id);
    if (names.length === 0) return { started: [], failed: [] };
    return startAutostartDomains(d);
  });
}
