/** formatNetworkXml: libvirt's virNetworkDefFormatBuf, element for element. */
import { XmlWriter } from '../../xml/write.js';
import { writeNetDevBandwidth } from './bandwidth.js';
import { writeNetworkDns } from './dns.js';
import { writeNetworkForward } from './forward.js';
import { writeNetworkIp } from './ip.js';
import { dumpXmlLikeLibxml } from './metadata.js';
import { writeNetworkPortGroup } from './portgroup.js';
import { writeNetworkRoute } from './route.js';
import { DNSMASQ_NAMESPACE, networkIsL3Managed, type NetworkDef } from './types.js';
import { writeNetDevVPortProfile } from './virtualport.js';
import { writeNetDevVlan } from './vlan.js';

/** libvirt's VIR_NETWORK_XML_INACTIVE: the persistent definition, without runtime data. */
export const NETWORK_XML_INACTIVE = 1;

export interface NetworkFormatOptions {
  /** VIR_NETWORK_XML_INACTIVE. */
  inactive?: boolean;
  /** libvirt flag bits (NETWORK_XML_INACTIVE); combined with `inactive`. */
  flags?: number;
  /** Indentation of the root element, in spaces (for embedding). */
  indent?: number;
}

const yn = (b: boolean | undefined) => (b === undefined ? undefined : b ? 'yes' : 'no');

/** Writes the <network> element into an existing writer. */
export function writeNetworkDef(w: XmlWriter, def: NetworkDef, opts: NetworkFormatOptions = {}): void {
  const inactive = !!opts.inactive || ((opts.flags ?? 0) & NETWORK_XML_INACTIVE) !== 0;
  const hasOptions = !!def.dnsmasqOptions?.length;
  w.open('network', [
    ['xmlns:dnsmasq', hasOptions ? DNSMASQ_NAMESPACE : undefined],
    ['connections', !inactive && def.connections ? def.connections : undefined],
    ['ipv6', def.ipv6 ? 'yes' : undefined],
    ['trustGuestRxFilters', yn(def.trustGuestRxFilters)],
    ...(def.kept?.attrs ?? []),
  ]);
  w.text('name', def.name);
  w.text('uuid', def.uuid);
  if (def.metadata) w.raw(' '.repeat(w.indentation) + dumpXmlLikeLibxml(def.metadata, w.indentation / 2) + '\n');
  writeNetworkForward(w, def.forward, inactive);

  const l3 = networkIsL3Managed(def);
  const br = def.bridge;
  if (l3 || br?.name !== undefined || br?.macTableManager) {
    const attrs: Array<readonly [string, string | number | undefined]> = [
      ['name', br?.name],
      ['zone', br?.zone],
      ['stp', l3 ? (br?.stp === false ? 'off' : 'on') : undefined],
      ['delay', l3 ? (br?.delay ?? 0) : undefined],
      ['macTableManager', br?.macTableManager],
      ...(br?.kept?.attrs ?? []),
    ];
    const kids = br?.kept?.children;
    w.element('bridge', attrs, kids ? (c) => kids.forEach((k) => c.node(k)) : undefined, true);
  }
  if (def.mtu) w.empty('mtu', [['size', def.mtu]]);
  if (def.mac) w.empty('mac', [['address', def.mac]]);
  const dom = def.domain;
  if (dom?.name !== undefined) {
    const kids = dom.kept?.children;
    w.element(
      'domain',
      [['name', dom.name], ['localOnly', yn(dom.localOnly)], ...(dom.kept?.attrs ?? [])],
      kids ? (c) => kids.forEach((k) => c.node(k)) : undefined,
      true,
    );
  }
  writeNetworkDns(w, def.dns);
  writeNetDevVlan(w, def.vlan);
  writeNetDevBandwidth(w, def.bandwidth);
  if (def.portIsolated !== undefined) w.empty('port', [['isolated', yn(def.portIsolated)]]);
  for (const ip of def.ips) writeNetworkIp(w, ip);
  for (const r of def.routes) writeNetworkRoute(w, r);
  writeNetDevVPortProfile(w, def.virtualPort);
  for (const pg of def.portGroups) writeNetworkPortGroup(w, pg);
  if (hasOptions) {
    w.open('dnsmasq:options');
    for (const o of def.dnsmasqOptions!) w.empty('dnsmasq:option', [['value', o]]);
    w.close('dnsmasq:options');
  }
  if (def.kept?.children) for (const c of def.kept.children) w.node(c);
  w.close('network');
}

/** Formats a NetworkDef as libvirt prints it (virsh net-dumpxml). */
export function formatNetworkXml(def: NetworkDef, opts: NetworkFormatOptions = {}): string {
  const w = new XmlWriter(opts.indent ?? 0);
  writeNetworkDef(w, def, opts);
  return w.toString();
}
