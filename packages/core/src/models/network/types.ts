/**
 * The typed model of libvirt's network XML (network.rng). Addresses are
 * kept in libvirt's canonical text form; what the model does not know is
 * kept in `kept` and written back.
 */
import type { KeptXml } from '../../xml/keep.js';
import type { XmlElement } from '../../xml/tree.js';
import type { IpFamily } from './address.js';
import type { NetDevBandwidth } from './bandwidth.js';
import type { NetworkPciAddress } from './pci-address.js';
import type { NetworkRoute } from './route.js';
import type { NetDevVPortProfile } from './virtualport.js';
import type { NetDevVlan } from './vlan.js';

export const NETWORK_FORWARD_MODES = ['nat', 'route', 'open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev'] as const;
/** <forward mode>; a network without <forward> is isolated ("none" in libvirt). */
export type NetworkForwardMode = (typeof NETWORK_FORWARD_MODES)[number];

/** The XML namespace of <dnsmasq:options>. */
export const DNSMASQ_NAMESPACE = 'http://libvirt.org/schemas/network/dnsmasq/1.0';

export interface NetworkForwardInterface {
  dev: string;
  /** Runtime: guests using this device (live XML only). */
  connections?: number;
}

export interface NetworkNat {
  ipv6?: boolean;
  /** SNAT address range (IPv4). */
  addressStart?: string;
  addressEnd?: string;
  /** SNAT/MASQUERADE source port range. */
  portStart?: number;
  portEnd?: number;
  kept?: KeptXml;
}

export interface NetworkForward {
  mode: NetworkForwardMode;
  /** hostdev mode: libvirt detaches/reattaches the devices itself. */
  managed?: boolean;
  /** hostdev mode: PCI passthrough backend. */
  driverName?: 'kvm' | 'vfio';
  /** Pool of host network devices (<forward dev> is the first one). */
  interfaces: NetworkForwardInterface[];
  /** Pool of PCI devices (hostdev mode). */
  pciAddresses: NetworkPciAddress[];
  /** SR-IOV physical function whose VFs form the pool. */
  pf?: string;
  nat?: NetworkNat;
  kept?: KeptXml;
}

export interface NetworkBridge {
  name?: string;
  /** firewalld zone. */
  zone?: string;
  /** Spanning tree; on unless turned off. */
  stp?: boolean;
  /** Forward delay in seconds. */
  delay?: number;
  macTableManager?: 'kernel' | 'libvirt';
  kept?: KeptXml;
}

export interface NetworkDomain {
  name?: string;
  /** Answer queries for the domain locally only (dnsmasq local=/domain/). */
  localOnly?: boolean;
  kept?: KeptXml;
}

export interface NetworkDnsForwarder {
  domain?: string;
  addr?: string;
  port?: number;
}

export interface NetworkDnsTxt {
  name: string;
  value: string;
}

export interface NetworkDnsSrv {
  service: string;
  protocol: string;
  domain?: string;
  target?: string;
  port?: number;
  priority?: number;
  weight?: number;
}

export interface NetworkDnsHost {
  ip: string;
  hostnames: string[];
}

export interface NetworkDns {
  enable?: boolean;
  forwardPlainNames?: boolean;
  forwarders: NetworkDnsForwarder[];
  txts: NetworkDnsTxt[];
  srvs: NetworkDnsSrv[];
  hosts: NetworkDnsHost[];
  kept?: KeptXml;
}

export type NetworkDhcpLeaseUnit = 'seconds' | 'minutes' | 'hours';

export interface NetworkDhcpLease {
  /** 0 means infinite. */
  expiry: number;
  unit: NetworkDhcpLeaseUnit;
}

export interface NetworkDhcpRange {
  start: string;
  end: string;
  lease?: NetworkDhcpLease;
}

export interface NetworkDhcpHost {
  /** As written in the XML (libvirt keeps the text). */
  mac?: string;
  /** DHCPv6 client id (DUID). */
  id?: string;
  name?: string;
  ip?: string;
  lease?: NetworkDhcpLease;
}

export interface NetworkIpDef {
  family?: IpFamily;
  address: string;
  netmask?: string;
  prefix?: number;
  localPtr?: boolean;
  tftpRoot?: string;
  ranges: NetworkDhcpRange[];
  hosts: NetworkDhcpHost[];
  bootp?: { file: string; server?: string };
  kept?: KeptXml;
  /** Unknown parts of <dhcp>. */
  dhcpKept?: KeptXml;
}

export interface NetworkPortGroup {
  name: string;
  isDefault?: boolean;
  trustGuestRxFilters?: boolean;
  vlan?: NetDevVlan;
  virtualPort?: NetDevVPortProfile;
  bandwidth?: NetDevBandwidth;
  kept?: KeptXml;
}

export interface NetworkDef {
  name: string;
  uuid: string;
  /** <metadata> with its application elements (sanitised as libvirt does). */
  metadata?: XmlElement;
  /** Runtime: guests connected (live XML only). */
  connections?: number;
  /** Allow guest-to-guest IPv6 without any IPv6 address on the bridge. */
  ipv6?: boolean;
  trustGuestRxFilters?: boolean;
  /** Absent: an isolated network. */
  forward?: NetworkForward;
  bridge?: NetworkBridge;
  mtu?: number;
  /** The bridge's MAC address (lowercase). */
  mac?: string;
  domain?: NetworkDomain;
  dns?: NetworkDns;
  vlan?: NetDevVlan;
  bandwidth?: NetDevBandwidth;
  /** <port isolated='yes|no'/>: guests on the bridge cannot talk to each other. */
  portIsolated?: boolean;
  ips: NetworkIpDef[];
  routes: NetworkRoute[];
  virtualPort?: NetDevVPortProfile;
  portGroups: NetworkPortGroup[];
  /** <dnsmasq:options>: raw dnsmasq config lines appended to the generated file. */
  dnsmasqOptions?: string[];
  kept?: KeptXml;
}

/** The forward mode as libvirt names it, "none" for an isolated network. */
export function networkForwardMode(def: NetworkDef): NetworkForwardMode | 'none' {
  return def.forward?.mode ?? 'none';
}

/** Modes whose bridge, addresses, DHCP and DNS libvirt itself sets up. */
export function networkIsL3Managed(def: NetworkDef): boolean {
  const m = networkForwardMode(def);
  return m === 'none' || m === 'nat' || m === 'route' || m === 'open';
}
