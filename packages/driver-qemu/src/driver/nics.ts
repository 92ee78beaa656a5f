import { HostCommandRunner, openLocalNetworkDriver, VirtError, type DomainInterfaceDef } from '@virtkit/core';
import { createTapDevice, deleteGuestDevice } from '@virtkit/network-linux';
import type { QemuDriverContext } from './context.js';
import type { HostNicRecord } from './record.js';

const hostRunner = new HostCommandRunner();

function needRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new VirtError('OPERATION_DENIED', `${what}: creating a tap device needs root (use <interface type='user'> in qemu:///session)`, { origin: 'qemu' });
  }
}

/**
 * The host side of a guest NIC, before QEMU opens it: for `bridge` a tap on
 * that bridge, for `network` a port of the virtual network (which says the
 * bridge) and a tap on it, as libvirt's qemuInterfaceBridgeConnect does.
 * QEMU then opens the tap by name (`-netdev tap,ifname=…,script=no`).
 * `user` NICs need nothing. Sets `net.ifname` (the live XML's <target dev>).
 */
export async function plugNic(ctx: QemuDriverContext, dom: { name: string; uuid: string }, net: DomainInterfaceDef, alias: string): Promise<HostNicRecord> {
  const rec: HostNicRecord = { alias };
  if (net.type === 'user') return rec;
  const what = `domain '${dom.name}': interface ${net.mac}`;
  let bridge: string | undefined;
  let mtu = net.mtu;
  let isolated = net.isolatedPort;
  if (net.type === 'bridge') {
    bridge = net.bridge;
    if (!bridge) throw new VirtError('CONFIG_UNSUPPORTED', `${what}: <source bridge> is missing`, { origin: 'qemu' });
  } else if (net.type === 'network') {
    if (!net.network) throw new VirtError('CONFIG_UNSUPPORTED', `${what}: <source network> is missing`, { origin: 'qemu' });
    const networks = await openLocalNetworkDriver(ctx.uri, { events: ctx.events, plugins: ctx.plugins });
    const port = await networks.allocatePort({
      network: net.network, owner: { name: dom.name, uuid: dom.uuid }, mac: net.mac, ...(net.portgroup ? { portgroup: net.portgroup } : {}),
    });
    rec.port = { uuid: port.uuid, network: port.network };
    bridge = port.bridge;
    mtu ??= port.mtu;
    isolated ??= port.isolated;
  } else if (net.type !== 'ethernet') {
    throw new VirtError('CONFIG_UNSUPPORTED', `${what}: interface type '${net.type}' is not supported by the QEMU driver`, { origin: 'qemu' });
  }
  try {
    needRoot(what);
    const managed = net.managedTap !== false;
    // Like libvirt, names of the automatic pattern are not kept for managed taps.
    let tap = net.ifname && !(managed && /^(vnet|macvtap|macvlan)[0-9]*$/.test(net.ifname)) ? net.ifname : undefined;
    if (!managed && !tap) throw new VirtError('CONFIG_UNSUPPORTED', `${what}: an unmanaged tap needs <target dev>`, { origin: 'qemu' });
    if (managed) {
      tap = await createTapDevice(hostRunner, {
        ...(tap ? { name: tap } : {}), guestMac: net.mac, ...(bridge ? { bridge } : {}), ...(mtu ? { mtu } : {}), ...(isolated ? { isolated } : {}), vnetHdr: true,
      });
      rec.tap = tap;
    }
    net.ifname = tap;
    return rec;
  } catch (err) {
    await unplugNic(ctx, rec).catch(() => {});
    throw err;
  }
}

/** Undoes plugNic: deletes the tap and releases the network port. */
export async function unplugNic(ctx: QemuDriverContext, rec: HostNicRecord): Promise<void> {
  if (rec.tap) await deleteGuestDevice(hostRunner, rec.tap).catch(() => {});
  if (rec.port) {
    const networks = await openLocalNetworkDriver(ctx.uri, { events: ctx.events, plugins: ctx.plugins });
    await networks.releasePort(rec.port.uuid).catch(() => {});
  }
}
