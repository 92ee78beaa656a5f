import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';
import { VirtError, type Capability, type DriverOpenContext, type HypervisorDriver, type HypervisorDriverFactory } from '@virtkit/core';
import { testCapabilitiesXml } from './capabilities.js';
import { loadDefaultNode, loadFixtureFile } from './fixture.js';
import type { TestHost } from './host.js';

export { TestHost } from './host.js';
export { loadNode, loadDefaultNode, loadFixtureFile } from './fixture.js';

/** What the test driver implements (mirrored in package.json's `virtkit.capabilities`). */
export const TEST_CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>([
  'domain.lifecycle', 'domain.reset', 'domain.suspend', 'domain.save', 'domain.managedsave', 'domain.autostart',
  'domain.stats', 'domain.setmem', 'domain.setvcpus', 'network', 'network.dhcp-leases', 'storage', 'storage.resize',
  'storage.wipe', 'interface', 'events',
]);

// test:///default is one host per process, shared by all its connections, as in libvirt.
let defaultHost: TestHost | undefined;

/** Forgets the shared test:///default host (tests use this for a fresh start). */
export function resetDefaultHost(): void {
  defaultHost = undefined;
}

/** Opens `test:///default` or `test:///absolute/path/to/node.xml`. */
const openTestDriver: HypervisorDriverFactory = async (ctx: DriverOpenContext): Promise<HypervisorDriver> => {
  const { uri } = ctx;
  let host: TestHost;
  if (uri.path === '/default') host = defaultHost ??= loadDefaultNode();
  else if (uri.path && isAbsolute(uri.path) && uri.path !== '/') host = loadFixtureFile(uri.path);
  else throw new VirtError('NO_CONNECT', `test driver: URI '${uri.raw}' must be test:///default or test:///path/to/fixture.xml`, { origin: 'test' });
  const unsubscribe = host.subscribe(ctx.events);
  return {
    name: 'test',
    capabilities: TEST_CAPABILITIES,
    uri: uri.raw.replace(/\?.*$/, ''),
    getHostname: async () => hostname(),
    getVersion: async () => ({ hypervisor: 'Test', version: '0.0.2' }),
    getCapabilities: async () => testCapabilitiesXml(host.cells),
    getNodeInfo: async () => ({ ...host.nodeInfo }),
    getFreeMemory: async () => host.cells.reduce((a, c) => a + c.memKiB, 0) * 1024 || host.nodeInfo.memoryKiB * 1024,
    domains: host,
    networks: host,
    storage: host,
    interfaces: host,
    close: async () => {
      unsubscribe();
    },
  };
};

export default openTestDriver;
