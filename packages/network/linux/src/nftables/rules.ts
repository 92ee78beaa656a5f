/**
 * The nftables rules of a virtual network, in a table of its own
 * (`inet virtkit_<bridge>`), following libvirt's nftables backend
 * (network_nftables.c): guests on the bridge talk to each other; NAT
 * networks masquerade outgoing traffic (TCP/UDP to source ports
 * 1024-65535 unless <nat><port> says otherwise, SNAT to <nat><address>
 * when given) and let back only replies; routed networks forward both
 * ways without NAT; isolated networks forward nothing; everything else
 * to or from the bridge is rejected. Stopping the network deletes the
 * table, and with it every rule it held, and nothing else.
 *
 * One `inet` table covers IPv4 and IPv6; IPv6 is routed, not NATed,
 * unless <nat ipv6='yes'>.
 */
import { createHash } from 'node:crypto';
import {
  VirtError,
  formatIpAddress,
  ipMaskByPrefix,
  networkForwardMode,
  networkIpPrefix,
  tryParseIpAddress,
  type NetworkDef,
} from '@virtkit/core';

const ORIGIN = { origin: 'network.nftables' };

/** Family and name of a network's table. */
export interface FirewallTable {
  family: 'inet';
  name: string;
}

/**
 * The table name for a bridge: `virtkit_` and the bridge name with
 * anything but letters, digits and '_' replaced, plus a short hash when
 * something was replaced (so two bridges never share a table).
 */
export function firewallTableFor(bridge: string): FirewallTable {
  const clean = bridge.replace(/[^A-Za-z0-9_]/g, '_');
  const suffix = clean === bridge ? '' : `_${createHash('sha256').update(bridge).digest('hex').slice(0, 6)}`;
  return { family: 'inet', name: `virtkit_${clean}${suffix}` };
}

/** Whether a forward mode gets firewall rules at all (open and bridge do not, as in libvirt). */
export function modeHasFirewall(mode: string): boolean {
  return mode === 'nat' || mode === 'route' || mode === 'none';
}

function quote(s: string): string {
  if (/["\\\n]/.test(s)) throw new VirtError('CONFIG_UNSUPPORTED', `device name '${s}' cannot be used in firewall rules`, ORIGIN);
  return `"${s}"`;
}

interface Subnet {
  family: 'ipv4' | 'ipv6';
  /** `ip` or `ip6`: the nft match keyword. */
  kw: 'ip' | 'ip6';
  cidr: string;
}

function subnetsOf(def: NetworkDef): Subnet[] {
  const out: Subnet[] = [];
  for (const ip of def.ips) {
    const a = tryParseIpAddress(ip.address);
    const p = networkIpPrefix(ip);
    if (!a || p < 0) {
      throw new VirtError('INTERNAL_ERROR', `network '${def.name}': invalid prefix or netmask for '${def.bridge?.name ?? ''}'`, ORIGIN);
    }
    out.push({ family: a.family, kw: a.family === 'ipv4' ? 'ip' : 'ip6', cidr: `${formatIpAddress(ipMaskByPrefix(a, p))}/${p}` });
  }
  return out;
}

/** The NAT rules of one IPv4 (or NATed IPv6) subnet, in evaluation order. */
function natRules(def: NetworkDef, s: Subnet, outDev: string | undefined): string[] {
  const nat = def.forward?.nat;
  const out = outDev ? ` oifname ${quote(outDev)}` : '';
  const match = `${s.kw} saddr ${s.cidr} ${s.kw} daddr != ${s.cidr}${out}`;
  let portStart = nat?.portStart ?? 0;
  let portEnd = nat?.portEnd ?? 0;
  if (portStart === 0 && portEnd === 0) {
    portStart = 1024;
    portEnd = 65535;
  }
  if (!(portStart < portEnd && portEnd < 65536)) {
    throw new VirtError('INTERNAL_ERROR', `network '${def.name}': Invalid port range '${portStart}-${portEnd}'.`, ORIGIN);
  }
  const ports = `:${portStart}-${portEnd}`;
  const addrStart = nat?.addressStart && tryParseIpAddress(nat.addressStart)?.family === s.family ? nat.addressStart : undefined;
  const addrEnd = addrStart && nat?.addressEnd && tryParseIpAddress(nat.addressEnd)?.family === s.family ? nat.addressEnd : undefined;
  const target = (withPorts: boolean): string => {
    if (addrStart) {
      // An IPv6 address with a port needs brackets in nft.
      const wrap = (a: string) => (s.family === 'ipv6' && withPorts ? `[${a}]` : a);
      const range = addrEnd ? `${wrap(addrStart)}-${wrap(addrEnd)}` : wrap(addrStart);
      return `snat ${s.kw} to ${range}${withPorts ? ports : ''}`;
    }
    return withPorts ? `masquerade to ${ports}` : 'masquerade';
  };
  const rules: string[] = [];
  // Local multicast and broadcast never leave the link; strict DHCP clients want replies unchanged.
  const keep = s.family === 'ipv4' ? ['224.0.0.0/24', '255.255.255.255/32'] : ['ff02::/16'];
  for (const d of keep) rules.push(`${s.kw} saddr ${s.cidr} ${s.kw} daddr ${d}${out} counter return`);
  rules.push(`meta l4proto tcp ${match} counter ${target(true)}`);
  rules.push(`meta l4proto udp ${match} counter ${target(true)}`);
  rules.push(`${match} counter ${target(false)}`);
  return rules;
}

/**
 * The nft script that creates (or atomically replaces) a network's table.
 * Returns '' for modes without rules (open, bridge).
 */
export function buildNetworkFirewall(def: NetworkDef, table: FirewallTable = firewallTableFor(def.bridge?.name ?? '')): string {
  const mode = networkForwardMode(def);
  if (!modeHasFirewall(mode)) return '';
  const bridge = def.bridge?.name;
  if (!bridge) throw new VirtError('INVALID_ARG', `network '${def.name}' has no bridge name`, ORIGIN);
  const br = quote(bridge);
  const fwdDev = def.forward?.interfaces[0]?.dev;
  const subnets = subnetsOf(def);
  const natIpv6 = def.forward?.nat?.ipv6 === true;

  const forward: string[] = [];
  const postrouting: string[] = [];
  // Guests on the same bridge talk to each other.
  forward.push(`iifname ${br} oifname ${br} counter accept`);
  if (mode === 'nat' || mode === 'route') {
    const inDev = fwdDev ? `iifname ${quote(fwdDev)} ` : '';
    const outDev = fwdDev ? ` oifname ${quote(fwdDev)}` : '';
    for (const s of subnets) {
      const natted = mode === 'nat' && (s.family === 'ipv4' || natIpv6);
      // In: replies only for NAT, everything for the subnet when routed.
      forward.push(`${inDev}oifname ${br} ${s.kw} daddr ${s.cidr}${natted ? ' ct state related,established' : ''} counter accept`);
      // Out: only from the network's own addresses.
      forward.push(`iifname ${br} ${s.kw} saddr ${s.cidr}${outDev} counter accept`);
      if (natted) postrouting.push(...natRules(def, s, fwdDev));
    }
  }
  // Everything else to or from the bridge is refused.
  forward.push(`oifname ${br} counter reject`);
  forward.push(`iifname ${br} counter reject`);

  const comment = `virtkit network ${def.name}`.replace(/["\\\n]/g, '_').slice(0, 120);
  const lines = [
    // Creating then deleting makes the replace atomic whether the table exists or not.
    `table ${table.family} ${table.name}`,
    `delete table ${table.family} ${table.name}`,
    `table ${table.family} ${table.name} {`,
    `  comment "${comment}"`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...forward.map((r) => `    ${r}`),
    '  }',
  ];
  if (postrouting.length) {
    lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;', ...postrouting.map((r) => `    ${r}`), '  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
