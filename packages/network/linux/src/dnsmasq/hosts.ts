/**
 * The two files dnsmasq re-reads on SIGHUP (libvirt's virdnsmasq.c):
 * the DHCP hosts file (--dhcp-hostsfile, one dhcp-host per line) and the
 * additional hosts file (--addn-hosts, /etc/hosts syntax).
 */
import type { NetworkDhcpHost, NetworkDhcpLease, NetworkDnsHost } from '@virtkit/core';

/** dnsmasq's lease time syntax: "infinite", or the value with s/m/h. */
export function dnsmasqLeaseTime(lease: NetworkDhcpLease | undefined): string | undefined {
  if (!lease) return undefined;
  return lease.expiry === 0 ? 'infinite' : `${lease.expiry}${lease.unit[0]}`;
}

/** One dhcp-host line for a static host of an IPv4 or IPv6 <dhcp> (hostsfileAdd). */
export function dhcpHostLine(host: NetworkDhcpHost & { ip: string }, ipv6: boolean): string {
  let line: string;
  if (ipv6) {
    const head = host.name !== undefined && host.id !== undefined ? `id:${host.id},${host.name}`
      : host.name !== undefined ? host.name
      : host.id !== undefined ? `id:${host.id}`
      : '';
    line = `${head},[${host.ip}]`;
  } else if (host.name !== undefined && host.mac !== undefined) line = `${host.mac},${host.ip},${host.name}`;
  else if (host.name !== undefined) line = `${host.name},${host.ip}`;
  else line = `${host.mac},${host.ip}`;
  const lease = dnsmasqLeaseTime(host.lease);
  return lease ? `${line},${lease}` : line;
}

/** The contents of the DHCP hosts file for these lines ('' when there are none). */
export function dhcpHostsFileContents(lines: readonly string[]): string {
  return lines.map((l) => l + '\n').join('');
}

/**
 * The additional hosts file: one line per address (in order of first
 * appearance) with all its names, each followed by a tab.
 */
export function addnHostsFileContents(hosts: readonly NetworkDnsHost[]): string {
  const byIp = new Map<string, string[]>();
  for (const h of hosts) {
    let names = byIp.get(h.ip);
    if (!names) byIp.set(h.ip, (names = []));
    names.push(...h.hostnames);
  }
  let out = '';
  for (const [ip, names] of byIp) out += `${ip}\t${names.map((n) => n + '\t').join('')}\n`;
  return out;
}
