import { cpus, hostname, totalmem, arch } from 'node:os';
import { VirtError, stateDirsFor, type Capability, type DriverOpenContext, type HypervisorDriver, type NodeInfo } from '@virtkit/core';

/**
 * `storage:///system`, `storage:///session` and `storage:///embed?root=DIR`:
 * a connection with no hypervisor, only the local storage driver of that
 * URI family (libvirt's virtstoraged answers the same URIs). Pools and
 * volumes are the same ones `qemu:///…` and `lxc:///…` see for the same
 * state folders.
 */
export async function openStorageDriver(ctx: DriverOpenContext): Promise<HypervisorDriver> {
  // Refuses paths other than /system, /session, /embed?root=DIR (and /system for non-root) early.
  stateDirsFor(ctx.uri);
  const capabilities = new Set<Capability>(['storage', 'storage.upload', 'storage.download', 'storage.wipe', 'storage.resize', 'events']);
  return {
    name: 'storage',
    capabilities,
    uri: ctx.uri.raw,
    async getHostname() {
      return hostname();
    },
    async getVersion() {
      return { hypervisor: 'storage', version: '0.1.0' };
    },
    async getCapabilities() {
      return `<capabilities>\n  <host>\n    <cpu>\n      <arch>${arch() === 'x64' ? 'x86_64' : arch()}</arch>\n    </cpu>\n  </host>\n</capabilities>\n`;
    },
    async getNodeInfo(): Promise<NodeInfo> {
      const c = cpus();
      return {
        model: arch() === 'x64' ? 'x86_64' : arch(),
        memoryKiB: Math.floor(totalmem() / 1024),
        cpus: c.length,
        mhz: c[0]?.speed ?? 0,
        nodes: 1,
        sockets: 1,
        cores: c.length,
        threads: 1,
      };
    },
    async close() {},
  };
}

export default async function factory(ctx: DriverOpenContext): Promise<HypervisorDriver> {
  if (ctx.uri.driver !== 'storage') throw new VirtError('NO_CONNECT', `the storage driver does not open '${ctx.uri.raw}'`, { origin: 'storage' });
  return openStorageDriver(ctx);
}
