/**
 * A container's network devices. `<interface type='network'|'bridge'|
 * 'ethernet'>` become a veth pair made before the container starts: the
 * host end on the bridge (in the namespace where the bridge lives: a
 * virtkit network may run in network.conf's namespace), the guest end in
 * ours, handed to LXC as a `phys` device that it moves into the
 * container and renames. `type='direct'` is LXC's macvlan and
 * `<hostdev mode='capabilities' type='net'>` its `phys`. Addresses and
 * default gateways go into the LXC config; other routes are added once
 * the container runs.
 */
import { HostCommandRunner, VirtError, type DomainDef, type IpDef, type LocalNetworkDriver, type RouteDef } from '@virtkit/core';
import { addDeviceAddress, addDeviceRoute, createVethPair, deleteGuestDevice, setDeviceUp } from '@virtkit/network-linux';
import { runCommand } from './command.js';

/** What was made for one NIC, kept in the runtime state to undo it. */
export interface NicRecord {
  /** Index in the definition's <interface> list. */
  index: number;
  /** Host end of the veth pair. */
  host: string;
  /** Guest end while it is still in our namespace. */
  peer: string;
  /** Network namespace of the host end (the bridge's), if not ours. */
  netns?: string;
  /** Port on a virtkit network. */
  port?: { uuid: string; network: string };
}

export interface NicPlan {
  /** `lxc.net.N.*` lines, in order. */
  lines: Array<[string, string]>;
  records: NicRecord[];
  /** Routes to add inside the container once it runs. */
  routes: Array<{ dev: string; route: RouteDef }>;
  /** Host end names by interface index, for the live XML. */
  hostNames: Map<number, string>;
}

export interface NicContext {
  owner: { name: string; uuid: string };
  /** The URI's local network driver (for type='network'); opened on first use. */
  networks: () => Promise<LocalNetworkDriver>;
  what: string;
}

function defaultPrefix(ip: IpDef): number {
  if (ip.prefix !== undefined && ip.prefix > 0) return ip.prefix;
  return (ip.family ?? (ip.address.includes(':') ? 'ipv6' : 'ipv4')) === 'ipv6' ? 64 : 24;
}

/** The broadcast address of an IPv4 address's subnet. */
export function ipv4Broadcast(address: string, prefix: number): string {
  const n = address.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  const host = prefix >= 32 ? 0 : 0xffffffff >>> prefix;
  const b = (n | host) >>> 0;
  return [24, 16, 8, 0].map((s) => (b >>> s) & 255).join('.');
}

function isDefaultRoute(r: RouteDef): boolean {
  const any = r.address === '0.0.0.0' || r.address === '::';
  const noPrefix = (r.prefix === undefined || r.prefix === 0) && (r.netmask === undefined || r.netmask === '0.0.0.0');
  return any && noPrefix && r.metric === undefined;
}

/** Address and gateway lines of one NIC; returns the routes LXC cannot express. */
function ipLines(key: string, ips: IpDef[] | undefined, routes: RouteDef[] | undefined, lines: Array<[string, string]>): RouteDef[] {
  for (const ip of ips ?? []) {
    const fam = ip.family ?? (ip.address.includes(':') ? 'ipv6' : 'ipv4');
    const prefix = defaultPrefix(ip);
    // LXC derives a wrong broadcast address by itself: give it.
    const bcast = fam === 'ipv4' ? ` ${ipv4Broadcast(ip.address, prefix)}` : '';
    lines.push([`${key}.${fam}.address`, `${ip.address}/${prefix}${bcast}`]);
  }
  const extra: RouteDef[] = [];
  const gw = new Set<string>();
  for (const r of routes ?? []) {
    const fam = r.family ?? (r.address.includes(':') ? 'ipv6' : 'ipv4');
    if (isDefaultRoute(r) && !gw.has(fam)) {
      gw.add(fam);
      lines.push([`${key}.${fam}.gateway`, r.gateway]);
    } else extra.push(r);
  }
  return extra;
}

/** Short host-side names from the domain UUID (IFNAMSIZ is 16): `vk1a2b3c4dn0` and its peer `vk1a2b3c4dp0`. */
export function vethNames(uuid: string, index: number): { host: string; peer: string } {
  const tag = uuid.replace(/-/g, '').slice(0, 8);
  return { host: `vk${tag}n${index}`, peer: `vk${tag}p${index}` };
}

/**
 * Makes the host side of every NIC and returns the LXC lines for them.
 * On failure, what was made is removed again before the error is thrown.
 */
export async function prepareNics(def: DomainDef, ctx: NicContext): Promise<NicPlan> {
  const plan: NicPlan = { lines: [], records: [], routes: [], hostNames: new Map() };
  let n = 0;
  // Explicit <guest dev> names are kept; the others get eth0, eth1, … around them.
  const explicit = new Set(def.devices.interfaces.map((nic) => nic.guestDev).filter((x): x is string => !!x));
  let auto = 0;
  const guestName = (wanted: string | undefined): string => {
    if (wanted) return wanted;
    let name: string;
    do name = `eth${auto++}`;
    while (explicit.has(name));
    return name;
  };
  try {
    for (const [index, nic] of def.devices.interfaces.entries()) {
      const key = `lxc.net.${n++}`;
      const name = guestName(nic.guestDev);
      const up = nic.linkState !== 'down';
      if (nic.type === 'direct') {
        if (!nic.dev) throw new VirtError('CONFIG_UNSUPPORTED', `${ctx.what}: <interface type='direct'> needs a source dev`, { origin: 'lxc' });
        const mode = nic.mode ?? 'vepa';
        if (!['vepa', 'bridge', 'private', 'passthrough'].includes(mode)) {
          throw new VirtError('CONFIG_UNSUPPORTED', `${ctx.what}: macvlan mode '${mode}' is not supported for containers`, { origin: 'lxc' });
        }
        plan.lines.push([`${key}.type`, 'macvlan'], [`${key}.link`, nic.dev], [`${key}.macvlan.mode`, mode === 'passthrough' ? 'passthru' : mode]);
        plan.lines.push([`${key}.hwaddr`, nic.mac], [`${key}.name`, name]);
        if (nic.mtu) plan.lines.push([`${key}.mtu`, String(nic.mtu)]);
        if (up) plan.lines.push([`${key}.flags`, 'up']);
        for (const route of ipLines(key, nic.ips, nic.routes, plan.lines)) plan.routes.push({ dev: name, route });
        continue;
      }
      if (nic.type !== 'network' && nic.type !== 'bridge' && nic.type !== 'ethernet') {
        throw new VirtError('CONFIG_UNSUPPORTED', `${ctx.what}: interface type '${nic.type}' is not supported for containers (use network, bridge, ethernet or direct)`, { origin: 'lxc' });
      }
      let runner = new HostCommandRunner();
      let bridge: string | undefined;
      let mtu = nic.mtu;
      let isolated = nic.isolatedPort;
      let port: NicRecord['port'];
      if (nic.type === 'network') {
        const networks = await ctx.networks();
        const p = await networks.allocatePort({ network: nic.network!, owner: ctx.owner, mac: nic.mac, ...(nic.portgroup ? { portgroup: nic.portgroup } : {}) });
        port = { uuid: p.uuid, network: p.network };
        runner = await networks.runner();
        bridge = p.bridge;
        mtu ??= p.mtu;
        isolated ??= p.isolated;
      } else if (nic.type === 'bridge') {
        bridge = nic.bridge;
        if (!bridge) throw new VirtError('CONFIG_UNSUPPORTED', `${ctx.what}: <interface type='bridge'> needs a source bridge`, { origin: 'lxc' });
      }
      const names = vethNames(ctx.owner.uuid, index);
      const host = nic.ifname && !/^vk[0-9a-f]{8}n[0-9]+$/.test(nic.ifname) ? nic.ifname : names.host;
      const record: NicRecord = { index, host, peer: names.peer, ...(runner.netns ? { netns: runner.netns } : {}), ...(port ? { port } : {}) };
      // Record first, so a failure below still removes the port.
      plan.records.push(record);
      await createVethPair(runner, {
        name: host,
        peer: names.peer,
        guestMac: nic.mac,
        ...(bridge ? { bridge } : {}),
        ...(mtu ? { mtu } : {}),
        ...(isolated ? { isolated } : {}),
        ...(runner.netns ? { peerNetns: process.pid } : {}),
      });
      if (nic.type === 'ethernet') {
        for (const ip of nic.hostIPs ?? []) await addDeviceAddress(runner, host, ip.address, defaultPrefix(ip), ctx.what);
        for (const r of nic.hostRoutes ?? []) {
          await addDeviceRoute(runner, host, { address: r.address, prefix: r.prefix ?? 0, gateway: r.gateway, ...(r.metric !== undefined ? { metric: r.metric } : {}) }, ctx.what);
        }
        await setDeviceUp(runner, host, true, ctx.what);
      }
      plan.hostNames.set(index, host);
      plan.lines.push([`${key}.type`, 'phys'], [`${key}.link`, names.peer], [`${key}.name`, name], [`${key}.hwaddr`, nic.mac]);
      if (mtu) plan.lines.push([`${key}.mtu`, String(mtu)]);
      if (up) plan.lines.push([`${key}.flags`, 'up']);
      for (const route of ipLines(key, nic.ips, nic.routes, plan.lines)) plan.routes.push({ dev: name, route });
    }
    for (const hd of def.devices.hostdevs) {
      if (hd.mode !== 'capabilities' || hd.type !== 'net' || !hd.interfaceName) continue;
      const key = `lxc.net.${n++}`;
      plan.lines.push([`${key}.type`, 'phys'], [`${key}.link`, hd.interfaceName], [`${key}.name`, hd.interfaceName], [`${key}.flags`, 'up']);
      for (const route of ipLines(key, hd.ips, hd.routes, plan.lines)) plan.routes.push({ dev: hd.interfaceName, route });
    }
  } catch (err) {
    await releaseNics(plan.records, ctx.networks).catch(() => {});
    throw err;
  }
  return plan;
}

/** Adds the routes LXC's config cannot hold, inside the running container's network namespace. */
export async function addContainerRoutes(initPid: number, routes: NicPlan['routes'], what: string): Promise<void> {
  for (const { dev, route } of routes) {
    const fam = route.family ?? (route.address.includes(':') ? 'ipv6' : 'ipv4');
    const prefix = route.prefix ?? (route.netmask ? netmaskPrefix(route.netmask) : fam === 'ipv6' ? 128 : 32);
    const argv = ['nsenter', '-t', String(initPid), '-n', 'ip', fam === 'ipv6' ? '-6' : '-4', 'route', 'add', `${route.address}/${prefix}`, 'via', route.gateway, 'dev', dev];
    if (route.metric !== undefined) argv.push('metric', String(route.metric));
    await runCommand(argv, { what: `${what}: add route ${route.address}/${prefix} via ${route.gateway}` });
  }
}

function netmaskPrefix(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

/** Removes the veth pairs and releases the ports of a container (what is already gone is skipped). */
export async function releaseNics(records: readonly NicRecord[], networks: () => Promise<LocalNetworkDriver>): Promise<void> {
  let first: unknown;
  for (const r of records) {
    try {
      await deleteGuestDevice(new HostCommandRunner(r.netns), r.host);
      // A peer that never left our namespace (start failed before LXC took it).
      await deleteGuestDevice(new HostCommandRunner(), r.peer);
    } catch (err) {
      first ??= err;
    }
    if (r.port) {
      try {
        await (await networks()).releasePort(r.port.uuid);
      } catch (err) {
        first ??= err;
      }
    }
  }
  if (first) throw first;
}
