/**
 * Network devices with `ip` (argv, no shell): Linux bridges with their
 * MAC, MTU, STP and addresses, and the small operations every device
 * needs (up, master, delete). Everything runs through a HostCommandRunner,
 * so it works inside a network namespace too.
 */
import { VirtError, type HostCommandRunner } from '@virtkit/core';

export interface BridgeOptions {
  name: string;
  /** The bridge's MAC address (libvirt gives L3 networks a random 52:54:00 one). */
  mac?: string;
  mtu?: number;
  /** Spanning tree (libvirt: on unless stp='off'). */
  stp: boolean;
  /** STP forward delay in seconds. */
  delaySeconds?: number;
  /** VLAN filtering (macTableManager='libvirt'). */
  vlanFiltering?: boolean;
  /** For error messages: "network 'default'". */
  what?: string;
}

const ORIGIN = { origin: 'network.linux' };

/** Interface names the kernel takes (IFNAMSIZ - 1, no '/', ':' or blanks). */
export function checkDeviceName(name: string, what = 'device'): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 15 || /[\s/:"\\]/.test(name) || name === '.' || name === '..') {
    throw new VirtError('INVALID_ARG', `invalid ${what} name '${String(name)}' (1 to 15 characters, no blanks, '/', ':', quotes or backslashes)`, ORIGIN);
  }
  return name;
}

/** Creates a bridge device in one `ip link add` (down; bring it up after the addresses). */
export async function createBridge(runner: HostCommandRunner, o: BridgeOptions): Promise<void> {
  checkDeviceName(o.name, 'bridge');
  const argv = ['ip', 'link', 'add', 'name', o.name];
  if (o.mac) argv.push('address', o.mac);
  if (o.mtu) argv.push('mtu', String(o.mtu));
  // With STP on the kernel raises a delay under 2 s to 2 s (as it does for libvirt).
  argv.push('type', 'bridge', 'forward_delay', String(Math.round((o.delaySeconds ?? 0) * 100)), 'stp_state', o.stp ? '1' : '0');
  if (o.vlanFiltering) argv.push('vlan_filtering', '1');
  await runner.run(argv, { what: `${o.what ? `${o.what}: ` : ''}create bridge '${o.name}'` });
}

/** Adds an address to a device (`ip addr add A/P dev D`). */
export async function addDeviceAddress(runner: HostCommandRunner, dev: string, address: string, prefix: number, what?: string): Promise<void> {
  const family = address.includes(':') ? '-6' : '-4';
  // IPv6: nodad, so dnsmasq can bind at once (the address is ours by construction).
  const extra = family === '-6' ? ['nodad'] : [];
  await runner.run(['ip', family, 'addr', 'add', `${address}/${prefix}`, 'dev', dev, ...extra], {
    what: `${what ? `${what}: ` : ''}add address ${address}/${prefix} to '${dev}'`,
  });
}

export async function setDeviceUp(runner: HostCommandRunner, dev: string, up: boolean, what?: string): Promise<void> {
  await runner.run(['ip', 'link', 'set', 'dev', dev, up ? 'up' : 'down'], { what: `${what ? `${what}: ` : ''}set '${dev}' ${up ? 'up' : 'down'}` });
}

/** Adds a static route through a device (a network's <route>). */
export async function addDeviceRoute(
  runner: HostCommandRunner,
  dev: string,
  route: { address: string; prefix: number; gateway: string; metric?: number },
  what?: string,
): Promise<void> {
  const family = route.address.includes(':') ? '-6' : '-4';
  const argv = ['ip', family, 'route', 'add', `${route.address}/${route.prefix}`, 'via', route.gateway, 'dev', dev];
  if (route.metric !== undefined) argv.push('metric', String(route.metric));
  await runner.run(argv, { what: `${what ? `${what}: ` : ''}add route ${route.address}/${route.prefix} via ${route.gateway}` });
}

/** Deletes a device; a device that is already gone is not an error. */
export async function deleteDevice(runner: HostCommandRunner, dev: string, what?: string): Promise<void> {
  const r = await runner.run(['ip', 'link', 'del', 'dev', dev], { allowFailure: true });
  if (r.code === 0) return;
  if (/Cannot find device|does not exist|No such device/i.test(r.stderr)) return;
  throw new VirtError('SYSTEM_ERROR', `${what ? `${what}: ` : ''}delete device '${dev}': ${r.stderr.trim() || `exit status ${r.code}`}`, ORIGIN);
}

/** Whether a device exists. */
export async function deviceExists(runner: HostCommandRunner, dev: string): Promise<boolean> {
  return (await runner.run(['ip', 'link', 'show', 'dev', dev], { allowFailure: true })).code === 0;
}

/** The kind of a device (`bridge`, `veth`, `tun`, …; '' for plain devices), undefined when missing. */
export async function deviceKind(runner: HostCommandRunner, dev: string): Promise<string | undefined> {
  const r = await runner.run(['ip', '-j', '-d', 'link', 'show', 'dev', dev], { allowFailure: true });
  if (r.code !== 0) return undefined;
  try {
    const rows = JSON.parse(r.stdout) as Array<{ linkinfo?: { info_kind?: string } }>;
    return rows[0]?.linkinfo?.info_kind ?? '';
  } catch {
    return '';
  }
}

/**
 * The IPv6 settings libvirt gives a network's bridge (networkSetIPv6Sysctls):
 * IPv6 off without IPv6 addresses; otherwise on, and no router
 * advertisements accepted nor autoconfiguration (the bridge is a router).
 */
export async function setBridgeIpv6(runner: HostCommandRunner, bridge: string, enable: boolean, what?: string): Promise<void> {
  const base = `net/ipv6/conf/${bridge}`;
  if ((await runner.getSysctl(`${base}/disable_ipv6`)) === undefined) return; // IPv6 is off in this kernel
  await runner.setSysctl(`${base}/disable_ipv6`, enable ? '0' : '1', what);
  await runner.setSysctl(`${base}/accept_ra`, '0', what);
  await runner.setSysctl(`${base}/autoconf`, '0', what);
}

/** Turns on IPv4 and/or IPv6 forwarding (libvirt's networkEnableIPForwarding; never turned off again). */
export async function enableIpForwarding(runner: HostCommandRunner, v4: boolean, v6: boolean, what?: string): Promise<void> {
  if (v4 && (await runner.getSysctl('net/ipv4/ip_forward')) !== '1') await runner.setSysctl('net/ipv4/ip_forward', '1', what);
  if (v6 && (await runner.getSysctl('net/ipv6/conf/all/forwarding')) !== '1') await runner.setSysctl('net/ipv6/conf/all/forwarding', '1', what);
}
