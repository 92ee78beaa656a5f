/**
 * validateNetworkDef: the define-time checks of libvirt's networkValidate
 * (bridge_driver.c) that need no host state, plus a few of virtkit's own
 * that catch configurations dnsmasq or the kernel would refuse later
 * (overlapping DHCP ranges, duplicate static hosts, a host outside its
 * subnet, the same address twice, an over-long bridge name), and, when
 * asked, conflicts with other networks (bridge names, subnets).
 */
import { formatIpAddress, tryParseIpAddress, type IpAddress } from './address.js';
import { netError } from './errors.js';
import { networkIpPrefix } from './ip.js';
import { parseMac } from '../../xml/values.js';
import { ipInSubnet, ipSubnetsOverlap } from './subnet.js';
import { networkForwardMode, networkIsL3Managed, type NetworkDef, type NetworkIpDef } from './types.js';

export interface NetworkValidateOptions {
  /**
   * Networks this one must not clash with (the driver passes the other
   * defined networks for bridge names, the active ones when starting):
   * same bridge name, or an overlapping IP subnet.
   */
  otherNetworks?: readonly NetworkDef[];
}

/** Longest Linux interface name (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

function ipSubnet(ip: NetworkIpDef): { addr: IpAddress; prefix: number } | undefined {
  const addr = tryParseIpAddress(ip.address);
  const prefix = networkIpPrefix(ip);
  return addr && prefix >= 0 ? { addr, prefix } : undefined;
}

function checkDhcp(def: NetworkDef, where: string): void {
  let v4 = false;
  let v6 = false;
  const seenAddr = new Set<string>();
  for (const ip of def.ips) {
    if (seenAddr.has(ip.address)) throw netError('CONFIG_UNSUPPORTED', where, `address ${ip.address} is given twice`);
    seenAddr.add(ip.address);
    const sub = ipSubnet(ip);
    const family = sub?.addr.family;
    if (ip.ranges.length || ip.hosts.length) {
      if (family === 'ipv4') {
        if (v4) {
          throw netError('CONFIG_UNSUPPORTED', where, 'Multiple IPv4 dhcp sections found -- dhcp is supported only for a single IPv4 address on each network');
        }
        v4 = true;
      } else if (family === 'ipv6') {
        if (v6) {
          throw netError('CONFIG_UNSUPPORTED', where, 'Multiple IPv6 dhcp sections found -- dhcp is supported only for a single IPv6 address on each network');
        }
        v6 = true;
      }
    }
    // Ranges must not overlap each other.
    const spans = ip.ranges.map((r) => ({ r, s: tryParseIpAddress(r.start)!, e: tryParseIpAddress(r.end)! }));
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        const a = spans[i]!;
        const b = spans[j]!;
        if (a.s.value <= b.e.value && b.s.value <= a.e.value) {
          throw netError(
            'CONFIG_UNSUPPORTED',
            where,
            `dhcp range ${a.r.start} - ${a.r.end} overlaps range ${b.r.start} - ${b.r.end}`,
          );
        }
      }
    }
    // Static hosts: unique, and inside the subnet they are served on.
    const ips = new Set<string>();
    const macs = new Set<string>();
    const names = new Set<string>();
    for (const h of ip.hosts) {
      if (h.ip !== undefined) {
        if (ips.has(h.ip)) throw netError('CONFIG_UNSUPPORTED', where, `more than one dhcp host has IP address ${h.ip}`);
        ips.add(h.ip);
        const hip = tryParseIpAddress(h.ip);
        if (sub && hip && (hip.family !== sub.addr.family || !ipInSubnet(hip, sub.addr, sub.prefix))) {
          throw netError(
            'CONFIG_UNSUPPORTED',
            where,
            `dhcp host address ${h.ip} is not within network ${formatIpAddress(sub.addr)}/${sub.prefix}`,
          );
        }
      }
      if (h.mac !== undefined) {
        const m = parseMac(h.mac);
        if (macs.has(m)) throw netError('CONFIG_UNSUPPORTED', where, `more than one dhcp host has MAC address ${h.mac}`);
        macs.add(m);
      }
      if (h.name !== undefined) {
        if (names.has(h.name)) throw netError('CONFIG_UNSUPPORTED', where, `more than one dhcp host is named '${h.name}'`);
        names.add(h.name);
      }
    }
  }
}

function checkVlansAndPortGroups(def: NetworkDef, where: string, bandwidthAllowed: boolean): void {
  const mode = networkForwardMode(def);
  const vlanAllowed =
    mode === 'hostdev' || mode === 'passthrough' || (mode === 'bridge' && def.virtualPort?.type === 'openvswitch');
  const vlanUsed = (def.vlan?.tags.length ?? 0) > 0;
  let badVlanUse = false;
  let defaultGroup: string | undefined;
  const names = new Set<string>();
  for (const pg of def.portGroups) {
    if (vlanUsed || (pg.vlan?.tags.length ?? 0) > 0) {
      if (pg.virtualPort) {
        if (mode !== 'bridge' || pg.virtualPort.type !== 'openvswitch') badVlanUse = true;
      } else if (!vlanAllowed) badVlanUse = true;
    }
    if (pg.isDefault) {
      if (defaultGroup !== undefined) {
        throw netError(
          'CONFIG_UNSUPPORTED',
          where,
          `multiple default <portgroup> elements (${defaultGroup} and ${pg.name}), but only one default is allowed`,
        );
      }
      defaultGroup = pg.name;
    }
    if (names.has(pg.name)) throw netError('CONFIG_UNSUPPORTED', where, `multiple <portgroup> elements with the same name (${pg.name})`);
    names.add(pg.name);
    if (pg.bandwidth && !bandwidthAllowed) {
      throw netError('CONFIG_UNSUPPORTED', where, `Unsupported <bandwidth> element in portgroup '${pg.name}' with forward mode='${mode}'`);
    }
    if (pg.bandwidth && mode === 'hostdev') {
      throw netError('CONFIG_UNSUPPORTED', where, `unsupported <bandwidth> element in <portgroup name='${pg.name}'> with forward mode='hostdev'`);
    }
  }
  if (badVlanUse || (vlanUsed && !vlanAllowed && defaultGroup === undefined)) {
    throw netError('CONFIG_UNSUPPORTED', where, "<vlan> element specified for a network whose type doesn't support vlan configuration");
  }
}

function checkOthers(def: NetworkDef, where: string, others: readonly NetworkDef[]): void {
  for (const o of others) {
    if (o.name === def.name || o.uuid === def.uuid) continue;
    const br = def.bridge?.name;
    if (br && !br.includes('%d') && o.bridge?.name === br) {
      throw netError('CONFIG_UNSUPPORTED', where, `bridge name '${br}' already in use by network '${o.name}'`);
    }
    for (const ip of def.ips) {
      const a = ipSubnet(ip);
      if (!a) continue;
      for (const oip of o.ips) {
        const b = ipSubnet(oip);
        if (b && ipSubnetsOverlap(a.addr, a.prefix, b.addr, b.prefix)) {
          throw netError(
            'CONFIG_UNSUPPORTED',
            where,
            `subnet ${ip.address}/${a.prefix} overlaps subnet ${oip.address}/${b.prefix} of network '${o.name}'`,
          );
        }
      }
    }
  }
}

/**
 * Checks a parsed definition before it is defined or started. Throws
 * VirtError (CONFIG_UNSUPPORTED, XML_ERROR) naming the network and the
 * cause. Does not change the definition (see ensureBridgeMac).
 */
export function validateNetworkDef(def: NetworkDef, opts: NetworkValidateOptions = {}): void {
  const where = `network '${def.name}'`;
  if (def.name.includes('\n')) throw netError('XML_ERROR', where, 'name cannot contain a newline');
  const mode = networkForwardMode(def);
  const l3 = networkIsL3Managed(def);
  let bandwidthAllowed = l3;
  if (l3) {
    const br = def.bridge?.name;
    if (br !== undefined && !br.includes('%d') && (br.length > IFNAME_MAX || /[\s/]/.test(br) || br === '')) {
      throw netError('CONFIG_UNSUPPORTED', where, `invalid bridge name '${br}' (at most ${IFNAME_MAX} characters, no blanks or '/')`);
    }
  } else {
    if (mode === 'bridge' && def.bridge?.name !== undefined) bandwidthAllowed = true;
    if (def.mac !== undefined) throw netError('CONFIG_UNSUPPORTED', where, `Unsupported <mac> element with forward mode='${mode}'`);
    if (def.ips.length) throw netError('CONFIG_UNSUPPORTED', where, `Unsupported <ip> element with forward mode='${mode}'`);
    if (def.dns && (def.dns.txts.length || def.dns.hosts.length || def.dns.srvs.length)) {
      throw netError('CONFIG_UNSUPPORTED', where, `Unsupported <dns> element with forward mode='${mode}'`);
    }
    if (def.domain?.name !== undefined) throw netError('CONFIG_UNSUPPORTED', where, `Unsupported <domain> element with forward mode='${mode}'`);
  }
  if (def.bandwidth && !bandwidthAllowed) {
    throw netError('CONFIG_UNSUPPORTED', where, `Unsupported network-wide <bandwidth> element with forward mode='${mode}'`);
  }
  const fwd = def.forward;
  if (fwd) {
    if (mode === 'hostdev' && fwd.interfaces.length) {
      throw netError(
        'CONFIG_UNSUPPORTED',
        where,
        `hostdev network lists '${fwd.interfaces[0]!.dev}' in the device pool, but hostdev networks require all devices to be listed by PCI address, not network device name`,
      );
    }
    if (mode !== 'hostdev' && fwd.pciAddresses.length) {
      throw netError(
        'CONFIG_UNSUPPORTED',
        where,
        `forward mode '${mode}' lists a device by PCI address in the device pool. This is only supported for networks with forward mode 'hostdev'`,
      );
    }
    const kinds = Number(fwd.pf !== undefined) + Number(fwd.interfaces.length > 0) + Number(fwd.pciAddresses.length > 0);
    if (kinds > 1) throw netError('CONFIG_UNSUPPORTED', where, '<address>, <interface>, and <pf> elements of <forward> are mutually exclusive');
  }
  checkDhcp(def, where);
  checkVlansAndPortGroups(def, where, bandwidthAllowed);
  if (opts.otherNetworks) checkOthers(def, where, opts.otherNetworks);
}
