/**
 * dnsmasq's lease file (--dhcp-leasefile) as libvirt's DHCP lease records:
 *   IPv4: `<expiry> <mac> <ip> <hostname|*> <client-id|*>`
 *   then `duid <server-duid>` and IPv6: `<expiry> <iaid> <ip> <hostname|*> <client-duid>`
 * An expiry of 0 means infinite. IPv6 leases carry no MAC; it is taken
 * from the client's DUID when that is link-layer based (DUID-LLT/-LL of
 * Ethernet), and leases whose MAC cannot be known are left out, as
 * libvirt's leases helper leaves them out.
 */
import { readFile } from 'node:fs/promises';
import { networkIpPrefix, tryParseIpAddress, type DhcpLease, type NetworkDef } from '@virtkit/core';

export interface DnsmasqLeaseRecord {
  expiry: number;
  type: 'ipv4' | 'ipv6';
  mac?: string;
  iaid?: string;
  ip: string;
  hostname?: string;
  clientId?: string;
}

const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** The Ethernet MAC inside a DUID-LLT (00:01:00:01:time:mac) or DUID-LL (00:03:00:01:mac). */
export function macFromDuid(duid: string): string | undefined {
  const b = duid.toLowerCase().split(':');
  if (b.length === 14 && b[0] === '00' && b[1] === '01' && b[2] === '00' && b[3] === '01') return b.slice(8).join(':');
  if (b.length === 10 && b[0] === '00' && b[1] === '03' && b[2] === '00' && b[3] === '01') return b.slice(4).join(':');
  return undefined;
}

export function parseDnsmasqLeases(text: string): DnsmasqLeaseRecord[] {
  const out: DnsmasqLeaseRecord[] = [];
  let v6 = false;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || f[0] === '') continue;
    if (f[0] === 'duid') {
      v6 = true;
      continue;
    }
    if (f.length < 4) continue;
    const expiry = Number(f[0]);
    if (!Number.isFinite(expiry)) continue;
    const hostname = f[3] && f[3] !== '*' ? f[3] : undefined;
    const clientId = f[4] && f[4] !== '*' ? f[4] : undefined;
    const ip = f[2]!;
    const isV6 = v6 || ip.includes(':');
    const rec: DnsmasqLeaseRecord = { expiry, type: isV6 ? 'ipv6' : 'ipv4', ip };
    if (isV6) {
      rec.iaid = f[1]!;
      const mac = clientId ? macFromDuid(clientId) : undefined;
      if (mac) rec.mac = mac;
    } else if (MAC_RE.test(f[1]!.toLowerCase())) rec.mac = f[1]!.toLowerCase();
    if (hostname) rec.hostname = hostname;
    if (clientId) rec.clientId = clientId;
    out.push(rec);
  }
  return out;
}

/** The leases of a network as libvirt reports them (prefix from the network's <ip>, interface = bridge). */
export function leasesForNetwork(def: NetworkDef, records: readonly DnsmasqLeaseRecord[]): DhcpLease[] {
  const prefixOf = (type: 'ipv4' | 'ipv6') => {
    const ip = def.ips.find((i) => tryParseIpAddress(i.address)?.family === type);
    return ip ? (type === 'ipv6' ? ip.prefix ?? networkIpPrefix(ip) : networkIpPrefix(ip)) : 0;
  };
  const out: DhcpLease[] = [];
  for (const r of records) {
    if (!r.mac) continue;
    const lease: DhcpLease = { expiryTime: r.expiry, mac: r.mac, ipaddr: r.ip, prefix: prefixOf(r.type), type: r.type, iface: def.bridge?.name ?? '' };
    if (r.iaid !== undefined) lease.iaid = r.iaid;
    if (r.hostname !== undefined) lease.hostname = r.hostname;
    if (r.clientId !== undefined) lease.clientId = r.clientId;
    out.push(lease);
  }
  return out;
}

/** Reads and converts a lease file; a missing file has no leases. */
export async function readNetworkLeases(def: NetworkDef, leaseFile: string): Promise<DhcpLease[]> {
  const text = await readFile(leaseFile, 'utf8').catch(() => '');
  return leasesForNetwork(def, parseDnsmasqLeases(text));
}
