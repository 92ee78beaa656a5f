/**
 * Local networks and host interfaces: the drivers core attaches to local
 * URIs whose hypervisor driver has none of its own (QEMU, LXC), the
 * NetworkMode contract of the mode packages, and the port API hypervisor
 * drivers use to attach guests.
 */
import { registerLocalSubdrivers } from '../connection.js';
import { stateDirsFor } from '../paths.js';
import type { VirtUri } from '../uri.js';
import { openLocalNetworkDriver } from './driver.js';
import { HostCommandRunner } from './host-command.js';
import { LocalInterfaceDriver } from './interfaces.js';
import { readNetworkSettings } from './settings.js';

export * from './host-command.js';
export * from './host-links.js';
export * from './mode.js';
export * from './ports.js';
export * from './settings.js';
export * from './update.js';
export { LocalNetworkDriver, openLocalNetworkDriver, type LocalNetworkDriverOptions } from './driver.js';
export { LocalInterfaceDriver } from './interfaces.js';
export { NetworkDefinitionStore } from './definitions.js';
export { readNetworkState, statePath as networkStatePath, type NetworkRuntimeState, type NetworkPhase } from './state.js';

/** The host-interface driver of a local URI (in network.conf's namespace, if any). */
export async function openLocalInterfaceDriver(uri: VirtUri): Promise<LocalInterfaceDriver> {
  const settings = await readNetworkSettings(stateDirsFor(uri).config);
  return new LocalInterfaceDriver(new HostCommandRunner(settings.netns));
}

registerLocalSubdrivers({
  network: (uri, ctx) => openLocalNetworkDriver(uri, ctx),
  interfaces: (uri) => openLocalInterfaceDriver(uri),
});
