/**
 * buildDnsmasqConfig: the dnsmasq configuration of a libvirt-style network,
 * line for line as libvirt 9.0's networkDnsmasqConfContents writes it,
 * together with the DHCP hosts file and the additional hosts file.
 */
import {
  VirtError,
  escapeXml,
  ipPrefixToNetmask,
  ipPtrDomain,
  ipRangeSize,
  formatIpAddress,
  networkIpPrefix,
  tryParseIpAddress,
  type NetworkDef,
  type NetworkIpDef,
} from '@virtkit/core';
import type { DnsmasqCaps } from './caps.js';
import { DNSMASQ_MIN_VERSION, formatDnsmasqVersion } from './caps.js';
import { addnHostsFileContents, dhcpHostLine, dhcpHostsFileContents, dnsmasqLeaseTime } from './hosts.js';

export interface DnsmasqConfigOptions {
  /** What `dnsmasq --version` said (see parseDnsmasqVersionOutput / dnsmasqCapsFromVersion). */
  caps: DnsmasqCaps;
  /** Directory of the hosts files (libvirt: /var/lib/libvirt/dnsmasq). */
  stateDir: string;
  /** Adds a pid-file= line when given. */
  pidFile?: string;
  /** The loopback interface dnsmasq must stay off (Linux: lo). */
  loopbackInterface?: string;
}

export interface DnsmasqFiles {
  /** The configuration file (dnsmasq --conf-file). */
  conf: string;
  /** Contents of the DHCP hosts file; '' when the network has no static DHCP hosts. */
  hostsfile: string;
  /** Contents of the additional hosts file (DNS <host> records). */
  addnhosts: string;
  hostsfilePath: string;
  addnhostsPath: string;
}

const ORIGIN = { origin: 'network.dnsmasq' };

function cfgError(code: VirtError['code'], def: NetworkDef, message: string): VirtError {
  return new VirtError(code, `network '${def.name}': ${message}`, ORIGIN);
}

/** File names libvirt uses for a network's dnsmasq state (the name is XML-escaped, as libvirt does). */
export function dnsmasqFilePaths(stateDir: string, networkName: string): {
  hostsfile: string;
  addnhosts: string;
  conf: string;
  leases: string;
} {
  const base = `${stateDir}/${escapeXml(networkName)}`;
  return {
    hostsfile: `${base}.hostsfile`,
    addnhosts: `${base}.addnhosts`,
    conf: `${stateDir}/${networkName}.conf`,
    leases: `${stateDir}/${networkName}.leases`,
  };
}

/**
 * Whether the network needs a dnsmasq at all (networkStartDhcpDaemon): it
 * has an address, and either DHCP/TFTP on one of them or DNS not disabled.
 */
export function networkNeedsDnsmasq(def: NetworkDef): boolean {
  if (def.ips.length === 0) return false;
  const dhcpOrTftp = def.ips.some((ip) => ip.ranges.length || ip.hosts.length || ip.tftpRoot !== undefined);
  return dhcpOrTftp || def.dns?.enable !== false;
}

const hasDhcp = (ip: NetworkIpDef) => ip.ranges.length > 0 || ip.hosts.length > 0;
const familyOf = (ip: NetworkIpDef) => tryParseIpAddress(ip.address)?.family;

function writeDhcp(lines: string[], def: NetworkDef, ip: NetworkIpDef, hostLines: string[]): number {
  const address = tryParseIpAddress(ip.address)!;
  const ipv6 = address.family === 'ipv6';
  const prefix = networkIpPrefix(ip);
  if (prefix < 0) throw cfgError('INTERNAL_ERROR', def, `bridge '${def.bridge?.name ?? ''}' has an invalid prefix`);
  let leases = 0;
  for (const r of ip.ranges) {
    let line: string;
    if (ipv6) line = `dhcp-range=${r.start},${r.end},${prefix}`;
    else line = `dhcp-range=${r.start},${r.end},${formatIpAddress(ipPrefixToNetmask(prefix, 'ipv4')!)}`;
    const lease = dnsmasqLeaseTime(r.lease);
    if (lease) line += `,${lease}`;
    lines.push(line);
    leases += ipRangeSize(tryParseIpAddress(r.start)!, tryParseIpAddress(r.end)!, address, prefix, `network '${def.name}'`);
  }
  // Static-only DHCP still needs a range to switch the service on.
  if (!ip.ranges.length && ip.hosts.length) lines.push(`dhcp-range=${ip.address},static${ipv6 ? `,${prefix}` : ''}`);
  for (const h of ip.hosts) if (h.ip !== undefined) hostLines.push(dhcpHostLine({ ...h, ip: h.ip }, ipv6));
  if (!ipv6) {
    if (ip.ranges.length || ip.hosts.length) lines.push('dhcp-no-override', 'dhcp-authoritative');
    if (ip.bootp) lines.push(ip.bootp.server ? `dhcp-boot=${ip.bootp.file},,${ip.bootp.server}` : `dhcp-boot=${ip.bootp.file}`);
  }
  return leases;
}

/**
 * The dnsmasq configuration and hosts files of a network. The network
 * must have its bridge name (the driver assigns one before starting).
 * Throws VirtError: CONFIG_UNSUPPORTED (too old a dnsmasq, several DHCP
 * sections of one family, an unusable localPtr prefix), INVALID_ARG (no
 * bridge name).
 */
export function buildDnsmasqConfig(def: NetworkDef, opts: DnsmasqConfigOptions): DnsmasqFiles {
  if (!(opts.caps.version >= DNSMASQ_MIN_VERSION)) {
    throw cfgError(
      'CONFIG_UNSUPPORTED',
      def,
      `dnsmasq version >= ${formatDnsmasqVersion(DNSMASQ_MIN_VERSION)} required but ${formatDnsmasqVersion(opts.caps.version)} found`,
    );
  }
  const bridge = def.bridge?.name;
  if (!bridge) throw cfgError('INVALID_ARG', def, 'has no bridge name; one must be assigned before dnsmasq is configured');
  const paths = dnsmasqFilePaths(opts.stateDir, def.name);
  const dns = def.dns;
  const wantDNS = dns?.enable !== false;
  const lines: string[] = [
    '##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE',
    '##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:',
    `##    virsh net-edit ${def.name}`,
    '## or other application using the libvirt API.',
    '##',
    '## dnsmasq conf file created by libvirt',
    'strict-order',
  ];
  // DNS off: port 0 stops dnsmasq listening for queries.
  if (!wantDNS) lines.push('port=0');

  if (wantDNS && dns && dns.forwarders.length) {
    // A forwarder for everything (address, no domain) replaces resolv.conf.
    let noResolv = false;
    for (const f of dns.forwarders) {
      let line = 'server=';
      if (f.domain !== undefined) line += `/${f.domain}/`;
      if (f.addr !== undefined) {
        line += f.port ? `${f.addr}#${f.port}` : f.addr;
        if (f.domain === undefined) noResolv = true;
      } else line += '#';
      lines.push(line);
    }
    if (noResolv) lines.push('no-resolv');
  }

  const domain = def.domain?.name;
  if (domain !== undefined) {
    if (def.domain?.localOnly === true) lines.push(`local=/${domain}/`);
    lines.push(`domain=${domain}`, 'expand-hosts');
  }

  if (wantDNS) {
    for (const ip of def.ips) {
      if (ip.localPtr !== true) continue;
      const addr = tryParseIpAddress(ip.address)!;
      const prefix = networkIpPrefix(ip);
      const ptr = ipPtrDomain(addr, prefix);
      if (!ptr) {
        throw cfgError(
          'CONFIG_UNSUPPORTED',
          def,
          `PTR domain for ${addr.family === 'ipv4' ? 'IPv4' : 'IPv6'} network with prefix ${prefix} cannot be automatically created`,
        );
      }
      lines.push(`local=/${ptr}/`);
    }
  }

  if (wantDNS && dns?.forwardPlainNames === false) lines.push('domain-needed', 'local=//');
  if (opts.pidFile !== undefined) lines.push(`pid-file=${opts.pidFile}`);
  lines.push(`except-interface=${opts.loopbackInterface ?? 'lo'}`);
  // bind-dynamic with only interface= answers nothing that arrives elsewhere (CVE-2012-3411).
  lines.push('bind-dynamic', `interface=${bridge}`);

  if (!def.forward) {
    // Isolated: no default route, no upstream DNS, and a zero-lifetime IPv6 default route.
    lines.push('dhcp-option=3', 'no-resolv', 'ra-param=*,0,0');
  }

  if (wantDNS && dns) {
    for (const t of dns.txts) lines.push(`txt-record=${t.name},${t.value}`);
    for (const s of dns.srvs) {
      let line = `srv-host=_${s.service}._${s.protocol}`;
      if (s.domain !== undefined) line += `.${s.domain}`;
      // No target, or ".", means the service is not available: nothing else matters.
      if (s.target !== undefined && s.target !== '.') {
        line += `,${s.target}`;
        if (s.port || s.priority || s.weight) line += `,${s.port || 1}`;
        if (s.priority || s.weight) line += `,${s.priority ?? 0}`;
        if (s.weight) line += `,${s.weight}`;
      }
      lines.push(line);
    }
  }

  let ipv4def: NetworkIpDef | undefined;
  let ipv6def: NetworkIpDef | undefined;
  let tftpEnabled = false;
  for (const ip of def.ips) {
    const family = familyOf(ip);
    if (family === 'ipv4') {
      if (hasDhcp(ip)) {
        if (ipv4def) throw cfgError('CONFIG_UNSUPPORTED', def, 'For IPv4, multiple DHCP definitions cannot be specified.');
        ipv4def = ip;
      }
      if (ip.tftpRoot !== undefined) {
        if (!tftpEnabled) lines.push('enable-tftp');
        tftpEnabled = true;
        lines.push(`tftp-root=${ip.tftpRoot}`);
      }
    } else if (family === 'ipv6' && hasDhcp(ip)) {
      if (ipv6def) throw cfgError('CONFIG_UNSUPPORTED', def, 'For IPv6, multiple DHCP definitions cannot be specified.');
      ipv6def = ip;
    }
  }

  const hostLines: string[] = [];
  let leases = 0;
  if (ipv4def) leases += writeDhcp(lines, def, ipv4def, hostLines);
  if (ipv6def) leases += writeDhcp(lines, def, ipv6def, hostLines);
  if (leases > 0) lines.push(`dhcp-lease-max=${leases}`);
  // Written even when empty, so hosts can be added at run time.
  if (ipv4def || ipv6def) lines.push(`dhcp-hostsfile=${paths.hostsfile}`);
  if (wantDNS) lines.push(`addn-hosts=${paths.addnhosts}`);
  if (def.mtu) lines.push(`dhcp-option=option:mtu,${def.mtu}`);

  if (ipv6def) lines.push('enable-ra');
  else {
    for (const ip of def.ips) if (familyOf(ip) === 'ipv6' && !hasDhcp(ip)) lines.push(`dhcp-range=${ip.address},ra-only`);
  }
  for (const o of def.dnsmasqOptions ?? []) lines.push(o);

  return {
    conf: lines.map((l) => l + '\n').join(''),
    hostsfile: dhcpHostsFileContents(hostLines),
    addnhosts: addnHostsFileContents(dns?.hosts ?? []),
    hostsfilePath: paths.hostsfile,
    addnhostsPath: paths.addnhosts,
  };
}
