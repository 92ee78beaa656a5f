/**
 * `vif = [ "mac=…,bridge=…,script=…" ]` entries (xl-network-configuration(5))
 * to and from <interface>, as libvirt's xenParseVif / xenFormatNet do.
 */
import { isIP } from 'node:net';
import { parseMac, VirtError, type DomainInterfaceDef, type IpDef } from '@virtkit/core';
import { confError } from './conf-access.js';

/** The script libvirt names for bridged NICs (DEFAULT_VIF_SCRIPT). */
export const DEFAULT_VIF_SCRIPT = 'vif-bridge';

/** `10240KB/s`, `100Mb/s@20ms` → kilobytes per second (xenParseSxprVifRate). */
export function parseVifRate(rate: string): number {
  const t = rate.split('@')[0]!;
  if (!/^[0-9]+[GMK]?[Bb]\/s$/.test(t)) throw confError(`Invalid rate '${rate}' specified`);
  const m = /^([0-9]+)([GMK]?)([Bb])/.exec(t)!;
  let v = Number(m[1]);
  if (m[2] === 'G') v *= 1024 * 1024;
  else if (m[2] === 'M') v *= 1024;
  if (m[3] === 'b') v = Math.floor(v / 8);
  return v;
}

/** The bridge name, with `.VLAN` or `:TRUNK:TRUNK` tags for Open vSwitch (xenParseVifBridge). */
function applyBridge(net: DomainInterfaceDef, bridge: string): void {
  const dot = bridge.indexOf('.');
  const parseTag = (s: string) => {
    if (!/^[0-9]+$/.test(s)) throw confError(`vif: invalid VLAN tag '${s}' in bridge '${bridge}'`);
    return Number(s);
  };
  if (dot >= 0) {
    net.bridge = bridge.slice(0, dot);
    net.vlan = { tags: [{ id: parseTag(bridge.slice(dot + 1)) }] };
    net.virtualport = { type: 'openvswitch' };
  } else if (bridge.includes(':')) {
    const parts = bridge.split(':');
    net.bridge = parts[0]!;
    net.vlan = { trunk: true, tags: parts.slice(1).map((p) => ({ id: parseTag(p) })) };
    net.virtualport = { type: 'openvswitch' };
  } else net.bridge = bridge;
}

/** One vif spec → <interface>; `typename` is the value of `type=` that means a PV NIC (`vif`). */
export function parseVif(entry: string, typename = 'vif'): DomainInterfaceDef {
  const keys: Record<string, string | undefined> = {};
  for (const raw of entry.split(',')) {
    const key = raw.replace(/^[ \t\n\r\f\v]+/, '');
    const eq = raw.indexOf('=');
    if (eq < 0) throw confError(`vif '${entry}': malformed setting '${raw}' (expected key=value)`);
    const value = raw.slice(eq + 1);
    for (const name of ['mac', 'bridge', 'script', 'model', 'type', 'vifname', 'ip', 'rate']) {
      if (key.startsWith(`${name}=`)) keys[name] = value;
    }
  }
  const { mac, bridge, script, model, type, vifname, ip, rate } = keys;
  const net: DomainInterfaceDef = { type: 'ethernet', mac: '00:00:00:00:00:00', ips: [], routes: [], info: {} };
  if (mac !== undefined) {
    try {
      net.mac = parseMac(mac);
    } catch {
      throw confError(`malformed mac address '${mac}'`);
    }
  }
  net.type = bridge !== undefined || script === 'vif-bridge' || script === 'vif-vnic' ? 'bridge' : 'ethernet';
  if (net.type === 'bridge' && bridge !== undefined) applyBridge(net, bridge);
  if (ip !== undefined) {
    for (const a of ip.split(' ')) {
      const fam = isIP(a);
      if (!fam) throw confError(`vif '${entry}': cannot parse IP address '${a}'`);
      const ipd: IpDef = { address: a, family: fam === 6 ? 'ipv6' : 'ipv4' };
      net.ips.push(ipd);
    }
  }
  if (script) net.script = script;
  if (model !== undefined) net.model = model;
  else if (type === typename) net.model = 'netfront';
  if (vifname) net.ifname = vifname;
  if (rate !== undefined) net.bandwidth = { outbound: { average: parseVifRate(rate) } };
  return net;
}

/** <interface> → vif spec (xenFormatNet); `bridgeOfNetwork` resolves type='network' NICs. */
export function formatVif(net: DomainInterfaceDef, hvm: boolean, typename = 'vif', bridgeOfNetwork?: (name: string) => string | undefined): string {
  let s = `mac=${net.mac}`;
  const ips = () => (net.ips.length ? `,ip=${net.ips.map((i) => i.address).join(' ')}` : '');
  switch (net.type) {
    case 'bridge': {
      let script = net.script;
      s += `,bridge=${net.bridge ?? ''}`;
      if (net.virtualport?.type === 'openvswitch') {
        script ??= 'vif-openvswitch';
        const tags = net.vlan?.tags ?? [];
        if (tags.length) s += net.vlan!.trunk ? tags.map((t) => `:${t.id}`).join('') : `.${tags[0]!.id}`;
      }
      s += ips();
      s += `,script=${script ?? DEFAULT_VIF_SCRIPT}`;
      break;
    }
    case 'ethernet':
      if (net.script) s += `,script=${net.script}`;
      s += ips();
      break;
    case 'network': {
      const br = bridgeOfNetwork?.(net.network ?? '');
      if (!br) {
        throw new VirtError('NO_NETWORK', `interface ${net.mac}: network '${net.network ?? ''}' is not known or not active, so it has no bridge for xl`, { origin: 'xen' });
      }
      s += `,bridge=${br},script=${DEFAULT_VIF_SCRIPT}`;
      break;
    }
    default:
      throw new VirtError('CONFIG_UNSUPPORTED', `interface ${net.mac}: Unsupported net type '${net.type}'`, { origin: 'xen' });
  }
  if (net.model) {
    if (hvm && net.model === 'netfront') s += `,type=${typename}`;
    else s += `,model=${net.model}`;
  }
  if (net.ifname) s += `,vifname=${net.ifname}`;
  if (net.bandwidth?.outbound?.average) s += `,rate=${net.bandwidth.outbound.average}KB/s`;
  return s;
}
