import { hostname } from 'node:os';
import { VirtError, type AutostartReport, type Capability, type DriverOpenContext, type HypervisorDriver } from '@virtkit/core';
import { autostartOncePerBoot } from './autostart.js';
import { QemuDriverContext, type QemuDriverSettings } from './context.js';
import { QemuDomains } from './domains.js';
import { capabilitiesXml, freeMemoryBytes, nodeInfo } from './host.js';

/** What the QEMU driver implements (mirrored in package.json's `virtkit.capabilities`). */
export const QEMU_CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'domain.lifecycle', 'domain.reset', 'domain.suspend', 'domain.save', 'domain.managedsave', 'domain.autostart', 'domain.stats',
  'domain.console', 'domain.hotplug.disk', 'domain.hotplug.nic', 'domain.hotplug.memory', 'domain.hotplug.vcpu', 'domain.setmem',
  'domain.setvcpus', 'domain.native', 'domain.jobs', 'domain.migrate', 'events', 'qemu.monitor-command',
]);

/** The driver of an opened QEMU URI, with its domains exposed for tools (autostart, tests). */
export interface QemuHypervisorDriver extends HypervisorDriver {
  readonly domains: QemuDomains;
}

/**
 * Opens `qemu:///system`, `qemu:///session` or `qemu:///embed?root=DIR`.
 * No daemon: state lives in the URI's folders and every process works on
 * it directly (see DESIGN.md, "Local use needs no daemon").
 */
export async function openQemuDriver(ctx: DriverOpenContext, settings: QemuDriverSettings = {}): Promise<QemuHypervisorDriver> {
  const { uri } = ctx;
  if (uri.transport || uri.host) throw new VirtError('NO_CONNECT', `the QEMU driver opens local URIs only, not '${uri.raw}'`, { origin: 'qemu' });
  const c = new QemuDriverContext(uri, ctx.events, ctx.plugins, {
    ...settings,
    ...(process.env.VIRTKIT_QEMU_BINARY ? { binary: process.env.VIRTKIT_QEMU_BINARY } : {}),
  });
  const domains = new QemuDomains(c);
  let openRun: Promise<AutostartReport | undefined> | undefined;
  if (!ctx.readonly && process.env.VIRTKIT_NO_AUTOSTART !== '1') {
    // Autostart guests start on the first use of the URI after boot (see docs/qemu.md).
    openRun = autostartOncePerBoot(domains);
    await openRun.catch(() => undefined);
  }
  return {
    name: 'qemu',
    capabilities: QEMU_CAPABILITIES,
    uri: uri.raw,
    domains,
    getHostname: async () => hostname(),
    getVersion: async () => ({ hypervisor: 'QEMU', version: (await c.caps()).versionString.replace(/^(\d+\.\d+\.\d+).*$/, '$1') }),
    getCapabilities: async () => capabilitiesXml(await c.caps(), (await c.accel()) === 'kvm'),
    getNodeInfo: () => nodeInfo(),
    getFreeMemory: () => freeMemoryBytes(),
    // The daemon's hook (core's HypervisorDriver.startAutostart): the report of the run this open made, else a run now
    // (a read-only open, or VIRTKIT_NO_AUTOSTART). Once per boot either way: undefined when it was done already.
    startAutostart: () => openRun ?? autostartOncePerBoot(domains),
    close: async () => {
      domains.close();
    },
  };
}
