/**
 * @virtkit/driver-lxc: Linux containers under virtkit's API, from
 * libvirt's LXC domain XML (`lxc:///system`, `lxc:///embed?root=DIR`),
 * run with the LXC userspace tools.
 */
import { hostname } from 'node:os';
import {
  openLocalNetworkDriver,
  stateDirsFor,
  VirtError,
  type Capability,
  type DriverOpenContext,
  type HypervisorDriver,
  type HypervisorDriverFactory,
  type LocalNetworkDriver,
} from '@virtkit/core';
import { LxcDomainDriver } from './driver.js';
import { hostUuid, lxcCapabilitiesXml, lxcFreeMemoryBytes, lxcNodeInfo, lxcVersion } from './host/host-info.js';

export * from './domain-xml.js';
export * from './native/from-native.js';
export { buildLxcConfig, containerHostname, lxcDomainXmlToConfig, rootfsDir, type LxcConfig, type LxcConfigOptions } from './native/to-native.js';
export { readLxcConf, type LxcConfEntry } from './native/lxc-conf.js';
export { LxcDomainDriver, lxcNameFor, type LxcDriverOptions } from './driver.js';
export { lxcPathsFor, LxcStore, type LxcPaths, type LxcRuntimeState } from './state/store.js';
export { cgroupLayout, parseCgroupMounts, readCgroupStats, sharesToWeight, weightToShares, type CgroupLayout, type CgroupStats } from './host/cgroups.js';
export { parseInitExit, LxcTools, type InitExit } from './host/lxc-tools.js';
export { vethNames, type NicRecord } from './host/nics.js';
export { lxcCapabilitiesXml, lxcNodeInfo } from './host/host-info.js';

/** What the LXC driver implements (mirrored in package.json's `virtkit.capabilities`). */
export const LXC_CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'domain.lifecycle', 'domain.suspend', 'domain.autostart', 'domain.stats', 'domain.console', 'domain.setmem', 'domain.native', 'events',
]);

/** The URI the driver reports: lxc:///system for the host, the embed URI as given. */
function canonicalUri(raw: string, scope: 'system' | 'session' | 'embed'): string {
  if (scope === 'system') return 'lxc:///system';
  if (scope === 'session') return 'lxc:///session';
  return raw;
}

/** Opens `lxc:///system` (= `lxc:///`), `lxc:///session` or `lxc:///embed?root=DIR`. */
const openLxcDriver: HypervisorDriverFactory = async (ctx: DriverOpenContext): Promise<HypervisorDriver> => {
  const { uri } = ctx;
  if (uri.driver !== 'lxc') throw new VirtError('NO_CONNECT', `the LXC driver cannot open '${uri.raw}'`, { origin: 'lxc' });
  if (uri.host && uri.host !== 'localhost') {
    throw new VirtError('NO_CONNECT', `the LXC driver opens local URIs only; '${uri.raw}' names host '${uri.host}' (use lxc+ssh://… with @virtkit/remote)`, { origin: 'lxc' });
  }
  const dirs = stateDirsFor(uri);
  let networks: Promise<LocalNetworkDriver> | undefined;
  const driver = new LxcDomainDriver({
    dirs,
    events: ctx.events,
    networks: () => (networks ??= openLocalNetworkDriver(uri, { events: ctx.events, plugins: ctx.plugins })),
  });
  try {
    await driver.init({ autostart: !ctx.readonly && process.env.VIRTKIT_LXC_NO_AUTOSTART !== '1' });
  } catch (err) {
    await driver.close().catch(() => {});
    throw err;
  }
  const host = hostUuid();
  return {
    name: 'lxc',
    capabilities: LXC_CAPABILITIES,
    uri: canonicalUri(uri.raw, dirs.scope),
    getHostname: async () => hostname(),
    getVersion: async () => ({ hypervisor: 'LXC', version: await lxcVersion() }),
    getCapabilities: async () => lxcCapabilitiesXml(host),
    getNodeInfo: async () => lxcNodeInfo(),
    getFreeMemory: async () => lxcFreeMemoryBytes(),
    domains: driver,
    close: () => driver.close(),
  };
};

export default openLxcDriver;
