/**
 * @virtkit/driver-xen: Xen guests through the xl toolstack (`xen:///system`),
 * and libvirt's `xen-xl` native format (domain XML ↔ xl.cfg), which works
 * without a Xen host.
 */
import { readFile } from 'node:fs/promises';
import {
  stateDirsFor, VirtError,
  type Capability, type DriverOpenContext, type HypervisorDriver, type HypervisorDriverFactory, type StateDirs,
} from '@virtkit/core';
import type { XenConversionOptions } from './conversion/index.js';
import { XenDomainDriver } from './domain-driver.js';
import { findXl, probeXenHost, xenCapabilitiesXml, xenGuests, xenHostname, xenNodeInfo, xenVersion } from './host.js';
import { XenStateStore } from './store.js';
import { parseXlInfo } from './xl/output.js';
import { XlRunner } from './xl/runner.js';

export * from './conversion/index.js';
export { XlRunner, xlErrorLine, type XlResult, type XlRunnerOptions } from './xl/runner.js';
export { parseXlInfo, parseXlList, parseXlListLong, stateFromFlags, type XlListRow, type XlDomainDetails } from './xl/output.js';
export { findXl, probeXenHost, xenGuests, xenVersion, xenNodeInfo } from './host.js';
export { XenDomainDriver } from './domain-driver.js';

/** What the Xen driver implements (mirrored in package.json's `virtkit.capabilities`). */
export const XEN_CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'domain.lifecycle', 'domain.suspend', 'domain.save', 'domain.hotplug.disk', 'domain.hotplug.nic',
  'domain.setmem', 'domain.setvcpus', 'domain.migrate', 'domain.native', 'domain.autostart', 'events',
]);

export interface XenDriverOptions {
  /** The xl binary; default $VIRTKIT_XL, else `xl` from PATH or /usr/sbin. */
  xl?: string;
  /** How often `xl list` is polled for events while someone listens (ms, 0 = never); default $VIRTKIT_XEN_POLL_MS or 1000. */
  pollMs?: number;
  /** Xen's firmware folder (ovmf.bin, hvmloader); default /usr/lib/xen/boot. */
  firmwareDir?: string;
}

function stateDirs(ctx: DriverOpenContext): StateDirs {
  const path = ctx.uri.path.replace(/\/+$/, '') || '/';
  if (path === '/session') {
    throw new VirtError('NO_CONNECT', `cannot open ${ctx.uri.raw}: Xen guests are system-wide, use xen:///system`, { origin: 'xen' });
  }
  if (path !== '/' && path !== '/system' && path !== '/embed') {
    throw new VirtError('NO_CONNECT', `cannot open ${ctx.uri.raw}: unexpected Xen URI path '${ctx.uri.path}', use xen:///system`, { origin: 'xen' });
  }
  return stateDirsFor(ctx.uri);
}

/** The host CPU's virtualisation flag (for `nestedhvm = 0`). */
async function hostHwVirt(): Promise<'vmx' | 'svm'> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return /^flags\s*:.*\bsvm\b/m.test(cpuinfo) && !/^flags\s*:.*\bvmx\b/m.test(cpuinfo) ? 'svm' : 'vmx';
}

/** A factory for `xen:` URIs with these options (the default export uses none). */
export function createXenDriverFactory(options: XenDriverOptions = {}): HypervisorDriverFactory {
  return async (ctx: DriverOpenContext): Promise<HypervisorDriver> => {
    const uriText = ctx.uri.raw.replace(/\?.*$/, '');
    const xl = await findXl(options.xl);
    const runnerFor = (path: string) => new XlRunner({ path });
    let info = await probeXenHost(uriText, xl, runnerFor);
    const dirs = stateDirs(ctx);
    const runner = runnerFor(xl!.path);
    const conversion: XenConversionOptions = {
      guests: xenGuests(info, options.firmwareDir),
      hwVirtFeature: await hostHwVirt(),
      ...(options.firmwareDir ? { firmwareDir: options.firmwareDir } : {}),
    };
    const store = new XenStateStore(dirs, () => conversion);
    if (!ctx.readonly) await store.init();
    const envPoll = Number(process.env.VIRTKIT_XEN_POLL_MS);
    const domains = new XenDomainDriver({
      xl: runner,
      store,
      events: ctx.events,
      conversion: () => conversion,
      pollMs: options.pollMs ?? (Number.isFinite(envPoll) && process.env.VIRTKIT_XEN_POLL_MS ? envPoll : 1000),
    });
    const refresh = async () => {
      info = parseXlInfo((await runner.run(['info'], 'xl info')).stdout);
      return info;
    };
    return {
      name: 'xen',
      capabilities: XEN_CAPABILITIES,
      uri: uriText,
      getHostname: async () => xenHostname(info),
      getVersion: async () => xenVersion(info),
      getCapabilities: async () => xenCapabilitiesXml(await refresh(), conversion.guests!),
      getNodeInfo: async () => xenNodeInfo(await refresh()),
      getFreeMemory: async () => Number((await refresh()).get('free_memory') ?? '0') * 1024 * 1024,
      domains,
      close: () => domains.close(),
    };
  };
}

const openXenDriver: HypervisorDriverFactory = createXenDriverFactory();
export default openXenDriver;
