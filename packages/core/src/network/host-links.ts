/**
 * The kernel's view of network devices, addresses and routes, from
 * `ip -j` (iproute2's JSON). Used by the host-interface driver and by the
 * network driver's checks (bridge name in use, subnet already routed).
 */
import { tryParseIpAddress, type IpFamily } from '../models/network/address.js';
import type { HostCommandRunner } from './host-command.js';

export interface HostAddress {
  family: IpFamily;
  address: string;
  prefix: number;
  scope?: string;
}

export interface HostLink {
  index: number;
  name: string;
  /** Lowercase MAC; '' for devices without one. */
  mac: string;
  mtu: number;
  /** iproute2's operstate, lowercase: up, down, unknown, lowerlayerdown, … */
  operstate: string;
  flags: string[];
  /** linkinfo.info_kind: bridge, veth, tun, bond, vlan, dummy, … ('' for plain devices). */
  kind: string;
  /** The bridge (or bond) this device is enslaved to. */
  master?: string;
  /** linkinfo.info_slave_kind: 'bridge' for bridge ports. */
  slaveKind?: string;
  /** linkinfo.info_data (bridge: stp_state, forward_delay; vlan: id, protocol). */
  info: Record<string, unknown>;
  /** For vlan devices: the underlying device ("link"). */
  link?: string;
  addresses: HostAddress[];
}

export interface HostRoute {
  family: IpFamily;
  /** Network address of the destination; 'default' routes are not listed. */
  dst: string;
  prefix: number;
  dev?: string;
  gateway?: string;
  protocol?: string;
}

interface IpLinkJson {
  ifindex?: number;
  ifname?: string;
  address?: string;
  mtu?: number;
  operstate?: string;
  flags?: string[];
  master?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string }>;
}

function toLink(j: IpLinkJson): HostLink | undefined {
  if (typeof j.ifname !== 'string') return undefined;
  const link: HostLink = {
    index: j.ifindex ?? 0,
    name: j.ifname,
    mac: (j.address ?? '').toLowerCase(),
    mtu: j.mtu ?? 0,
    operstate: (j.operstate ?? 'unknown').toLowerCase(),
    flags: j.flags ?? [],
    kind: j.linkinfo?.info_kind ?? '',
    info: j.linkinfo?.info_data ?? {},
    addresses: [],
  };
  if (j.master) link.master = j.master;
  if (j.linkinfo?.info_slave_kind) link.slaveKind = j.linkinfo.info_slave_kind;
  if (j.link) link.link = j.link;
  for (const a of j.addr_info ?? []) {
    if (typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
    const family: IpFamily | undefined = a.family === 'inet' ? 'ipv4' : a.family === 'inet6' ? 'ipv6' : undefined;
    if (!family) continue;
    link.addresses.push({ family, address: a.local, prefix: a.prefixlen, ...(a.scope ? { scope: a.scope } : {}) });
  }
  return link;
}

/** Every device with its details and addresses (`ip -d -j addr show` carries both). */
export async function listHostLinks(runner: HostCommandRunner): Promise<HostLink[]> {
  const rows = await runner.ipJson<IpLinkJson>(['-d', 'addr', 'show'], 'list host interfaces');
  return rows.map(toLink).filter((l): l is HostLink => !!l);
}

/** One device, or undefined when it does not exist. */
export async function getHostLink(runner: HostCommandRunner, name: string): Promise<HostLink | undefined> {
  const r = await runner.run(['ip', '-j', '-d', 'addr', 'show', 'dev', name], { allowFailure: true });
  if (r.code !== 0) return undefined;
  try {
    const rows = JSON.parse(r.stdout || '[]') as IpLinkJson[];
    return rows.map(toLink).find((l) => l?.name === name);
  } catch {
    return undefined;
  }
}

/** Whether a network device of this name exists. */
export async function hostLinkExists(runner: HostCommandRunner, name: string): Promise<boolean> {
  const r = await runner.run(['ip', 'link', 'show', 'dev', name], { allowFailure: true });
  return r.code === 0;
}

interface IpRouteJson {
  dst?: string;
  dev?: string;
  gateway?: string;
  protocol?: string;
  type?: string;
}

function parseRoute(j: IpRouteJson, family: IpFamily): HostRoute | undefined {
  if (!j.dst || j.dst === 'default') return undefined;
  if (j.type && j.type !== 'unicast') return undefined;
  const [addr, len] = j.dst.split('/');
  const a = tryParseIpAddress(addr ?? '', family);
  if (!a) return undefined;
  const prefix = len === undefined ? (family === 'ipv4' ? 32 : 128) : Number(len);
  if (!Number.isInteger(prefix)) return undefined;
  const route: HostRoute = { family, dst: addr!, prefix };
  if (j.dev) route.dev = j.dev;
  if (j.gateway) route.gateway = j.gateway;
  if (j.protocol) route.protocol = j.protocol;
  return route;
}

/** Non-default unicast routes of the main table, IPv4 and IPv6. */
export async function listHostRoutes(runner: HostCommandRunner): Promise<HostRoute[]> {
  const [v4, v6] = await Promise.all([
    runner.ipJson<IpRouteJson>(['-4', 'route', 'show', 'table', 'main'], 'list IPv4 routes'),
    runner.ipJson<IpRouteJson>(['-6', 'route', 'show', 'table', 'main'], 'list IPv6 routes').catch(() => [] as IpRouteJson[]),
  ]);
  const out: HostRoute[] = [];
  for (const j of v4) {
    const r = parseRoute(j, 'ipv4');
    if (r) out.push(r);
  }
  for (const j of v6) {
    const r = parseRoute(j, 'ipv6');
    if (r) out.push(r);
  }
  return out;
}
