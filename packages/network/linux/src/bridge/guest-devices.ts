/**
 * The host side of a guest NIC, for hypervisor drivers: a tap device on a
 * bridge (QEMU opens it with `-netdev tap,ifname=…,script=no`) or a veth
 * pair with one end on a bridge and the other moved into a container's
 * namespace (LXC). Host ends get the guest's MAC with the first byte
 * 0xFE, as libvirt does, so the bridge never takes the guest's address as
 * its own.
 */
import { VirtError, parseMac, type HostCommandRunner } from '@virtkit/core';
import { checkDeviceName, deleteDevice, deviceExists } from './links.js';

const ORIGIN = { origin: 'network.linux' };

/** The host-side MAC libvirt gives a guest's tap/veth: the guest MAC with the first octet 0xFE. */
export function hostSideMac(guestMac: string): string {
  const m = parseMac(guestMac);
  return `fe${m.slice(2)}`;
}

/** The first free `<prefix>N` device name (vnet0, vnet1, …; veth0, …). */
export async function nextFreeDeviceName(runner: HostCommandRunner, prefix = 'vnet', max = 4096): Promise<string> {
  const r = await runner.run(['ip', '-j', 'link', 'show'], { what: 'list devices' });
  const used = new Set((JSON.parse(r.stdout || '[]') as Array<{ ifname?: string }>).map((l) => l.ifname));
  for (let i = 0; i < max; i++) {
    const name = `${prefix}${i}`;
    if (!used.has(name)) return checkDeviceName(name);
  }
  throw new VirtError('OPERATION_FAILED', `no free device name with prefix '${prefix}'`, ORIGIN);
}

export interface BridgePortOptions {
  /** Bridge to enslave the device to. */
  bridge?: string;
  mtu?: number;
  /** Port isolation (<port isolated='yes'/>). */
  isolated?: boolean;
  /** Bring the device up (default true). */
  up?: boolean;
}

/** Puts a device on a bridge, sets MTU/isolation, brings it up. */
export async function attachDeviceToBridge(runner: HostCommandRunner, dev: string, o: BridgePortOptions): Promise<void> {
  const argv = ['ip', 'link', 'set', 'dev', dev];
  if (o.bridge) argv.push('master', checkDeviceName(o.bridge, 'bridge'));
  if (o.mtu) argv.push('mtu', String(o.mtu));
  if (o.up !== false) argv.push('up');
  await runner.run(argv, { what: `attach '${dev}'${o.bridge ? ` to bridge '${o.bridge}'` : ''}` });
  if (o.bridge && o.isolated) await runner.run(['ip', 'link', 'set', 'dev', dev, 'type', 'bridge_slave', 'isolated', 'on'], { what: `isolate port '${dev}'` });
}

export interface TapOptions extends BridgePortOptions {
  /** Device name (default: the first free vnetN). */
  name?: string;
  /** The guest's MAC: the tap gets it with the first byte 0xFE. */
  guestMac?: string;
  /** Owner uid/gid, for an unprivileged QEMU. */
  user?: number | string;
  group?: number | string;
  multiQueue?: boolean;
  vnetHdr?: boolean;
}

/**
 * Creates a persistent tap (`ip tuntap add … mode tap`), optionally on a
 * bridge. Returns its name; delete it with deleteDevice when the guest is
 * gone (a persistent tap outlives the process that used it).
 */
export async function createTapDevice(runner: HostCommandRunner, o: TapOptions = {}): Promise<string> {
  const name = o.name !== undefined ? checkDeviceName(o.name, 'tap device') : await nextFreeDeviceName(runner, 'vnet');
  const argv = ['ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap'];
  if (o.user !== undefined) argv.push('user', String(o.user));
  if (o.group !== undefined) argv.push('group', String(o.group));
  if (o.multiQueue) argv.push('multi_queue');
  if (o.vnetHdr) argv.push('vnet_hdr');
  await runner.run(argv, { what: `create tap device '${name}'` });
  try {
    if (o.guestMac) await runner.run(['ip', 'link', 'set', 'dev', name, 'address', hostSideMac(o.guestMac)], { what: `set the MAC of '${name}'` });
    await attachDeviceToBridge(runner, name, o);
  } catch (err) {
    await deleteDevice(runner, name).catch(() => {});
    throw err;
  }
  return name;
}

export interface VethOptions extends BridgePortOptions {
  /** Host end (default: the first free vethN). */
  name?: string;
  /** Guest end (default: `<name>p`). */
  peer?: string;
  /** Moves the guest end into this namespace: a name under /run/netns or a process id. */
  peerNetns?: string | number;
  /** The guest end's MAC (the host end gets it with the first byte 0xFE). */
  guestMac?: string;
  /** The guest end's name inside its namespace (renamed after the move, e.g. eth0). */
  peerNameInNetns?: string;
}

/** Creates a veth pair with the host end on a bridge. Returns both names. */
export async function createVethPair(runner: HostCommandRunner, o: VethOptions = {}): Promise<{ host: string; peer: string }> {
  const host = o.name !== undefined ? checkDeviceName(o.name, 'veth device') : await nextFreeDeviceName(runner, 'veth');
  const peer = checkDeviceName(o.peer ?? `${host}p`.slice(0, 15), 'veth peer');
  const argv = ['ip', 'link', 'add', 'name', host];
  if (o.guestMac) argv.push('address', hostSideMac(o.guestMac));
  argv.push('type', 'veth', 'peer', 'name', peer);
  if (o.guestMac) argv.push('address', parseMac(o.guestMac));
  if (o.peerNetns !== undefined) argv.push('netns', String(o.peerNetns));
  await runner.run(argv, { what: `create veth pair '${host}'/'${peer}'` });
  try {
    await attachDeviceToBridge(runner, host, o);
    if (o.peerNameInNetns && o.peerNetns !== undefined && typeof o.peerNetns === 'string') {
      await runner.run(['ip', '-n', o.peerNetns, 'link', 'set', 'dev', peer, 'name', checkDeviceName(o.peerNameInNetns)], { what: `rename '${peer}'` });
    }
  } catch (err) {
    await deleteDevice(runner, host).catch(() => {});
    throw err;
  }
  return { host, peer: o.peerNameInNetns ?? peer };
}

/** Deletes a guest's host-side device if it still exists (the peer of a veth goes with it). */
export async function deleteGuestDevice(runner: HostCommandRunner, dev: string): Promise<void> {
  if (await deviceExists(runner, dev)) await deleteDevice(runner, dev);
}
