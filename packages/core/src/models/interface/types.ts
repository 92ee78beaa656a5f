/**
 * The typed model of libvirt's host interface XML (interface.rng, the
 * virInterface* API / netcf): ethernet, bridge, bond and vlan devices with
 * start mode, MTU, addressing and link state. Like libvirt, most values are
 * kept as written (addresses, MACs, delays); they are checked on parse.
 */
import type { KeptXml } from '../../xml/keep.js';

export const INTERFACE_TYPES = ['ethernet', 'bridge', 'bond', 'vlan'] as const;
export type InterfaceType = (typeof INTERFACE_TYPES)[number];

export const INTERFACE_START_MODES = ['onboot', 'none', 'hotplug'] as const;
export type InterfaceStartMode = (typeof INTERFACE_START_MODES)[number];

export const INTERFACE_LINK_STATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type InterfaceLinkState = (typeof INTERFACE_LINK_STATES)[number];

export const INTERFACE_BOND_MODES = [
  'balance-rr',
  'active-backup',
  'balance-xor',
  'broadcast',
  '802.3ad',
  'balance-tlb',
  'balance-alb',
] as const;
export type InterfaceBondMode = (typeof INTERFACE_BOND_MODES)[number];

export interface InterfaceIp {
  address: string;
  /** 0/absent: not written. */
  prefix?: number;
}

export interface InterfaceProtocol {
  family: 'ipv4' | 'ipv6';
  /** IPv6 stateless autoconfiguration. */
  autoconf?: boolean;
  /** Present when the address comes from DHCP; peerdns: use its DNS servers. */
  dhcp?: { peerdns?: boolean };
  ips: InterfaceIp[];
  /** Default gateway (<route gateway>). */
  gateway?: string;
}

export interface InterfaceLink {
  /** Mbit/s. */
  speed?: number;
  state?: InterfaceLinkState;
}

export interface InterfaceBridge {
  stp?: boolean;
  /** Forward delay in seconds, as written (a decimal number). */
  delay?: string;
  /** Ports: ethernet, bond or vlan interfaces. */
  interfaces: InterfaceDef[];
}

export interface InterfaceBondMiimon {
  freq: number;
  downdelay?: number;
  updelay?: number;
  carrier?: 'ioctl' | 'netif';
}

export interface InterfaceBondArpmon {
  interval: number;
  target: string;
  validate?: 'active' | 'backup' | 'all';
}

export interface InterfaceBond {
  mode?: InterfaceBondMode;
  miimon?: InterfaceBondMiimon;
  arpmon?: InterfaceBondArpmon;
  /** Slaves: ethernet interfaces. */
  interfaces: InterfaceDef[];
}

export interface InterfaceVlan {
  /** VLAN id as written (0..4095). */
  tag: string;
  /** The underlying device. */
  device: string;
}

export interface InterfaceDef {
  type: InterfaceType;
  name: string;
  /** Top-level interfaces only. */
  startMode?: InterfaceStartMode;
  mtu?: number;
  protocols: InterfaceProtocol[];
  /** Not for bridges. */
  link?: InterfaceLink;
  /** ethernet: MAC address as written. */
  mac?: string;
  bridge?: InterfaceBridge;
  bond?: InterfaceBond;
  vlan?: InterfaceVlan;
  kept?: KeptXml;
}
