import type { Connection } from './connection.js';
import { VirtError } from './errors.js';
import { parseXml } from './xml/parse.js';

/** One address of a guest interface (virDomainIPAddress). */
export interface DomainIpAddress {
  type: 'ipv4' | 'ipv6';
  addr: string;
  prefix: number;
}

/** A guest interface and its addresses (virDomainInterface). */
export interface DomainInterfaceAddresses {
  /** The host side name (`vnet0`), as virsh domifaddr shows it. */
  name: string;
  hwaddr: string;
  addrs: DomainIpAddress[];
}

export type InterfaceAddressSource = 'lease' | 'agent' | 'arp';

/**
 * What libvirt's `lease` source answers (virDomainInterfaceAddresses):
 * for each `<interface type='network'>` of the running domain, the DHCP
 * leases its network holds for the interface's MAC. Works for any driver
 * and through a remote connection, since it only uses the network API.
 */
export async function interfaceAddressesFromLeases(conn: Connection, domainName: string, liveXml: string): Promise<DomainInterfaceAddresses[]> {
  const devices = parseXml(liveXml, `domain '${domainName}'`).child('devices');
  const out: DomainInterfaceAddresses[] = [];
  for (const nic of devices?.elements('interface') ?? []) {
    const network = nic.child('source')?.attr('network');
    const mac = nic.child('mac')?.attr('address')?.toLowerCase();
    if (nic.attr('type') !== 'network' || !network || !mac) continue;
    const leases = await (await conn.lookupNetwork(network)).getDhcpLeases(mac);
    if (!leases.length) continue;
    out.push({
      name: nic.child('target')?.attr('dev') ?? '',
      hwaddr: mac,
      addrs: leases.map((l) => ({ type: l.type, addr: l.ipaddr, prefix: l.prefix })),
    });
  }
  return out;
}

export function unsupportedAddressSource(domainName: string, source: string): VirtError {
  return new VirtError('ARGUMENT_UNSUPPORTED', `domain '${domainName}': interface address source '${source}' is not supported (use 'lease': the DHCP leases of its networks)`);
}
