/**
 * Network ports: how a hypervisor driver attaches a guest NIC to a virtual
 * network (libvirt's virNetworkPort API). The driver asks for a port with
 * the guest's MAC (and portgroup); the network says what to plug into (a
 * bridge, its MTU, VLAN/bandwidth from the portgroup) and records the
 * port, so a network still used by a running guest is not destroyed.
 * The hypervisor driver then creates the tap (QEMU) or veth (LXC) itself,
 * with the helpers of @virtkit/network-linux, and releases the port when
 * the guest stops.
 */
import type { NetDevBandwidth } from '../models/network/bandwidth.js';
import type { NetDevVPortProfile } from '../models/network/virtualport.js';
import type { NetDevVlan } from '../models/network/vlan.js';

export interface NetworkPortOwner {
  /** The guest's name and UUID. */
  name: string;
  uuid: string;
}

export interface NetworkPortRequest {
  /** The network's name. */
  network: string;
  owner: NetworkPortOwner;
  /** The guest NIC's MAC address. */
  mac: string;
  /** <source portgroup='…'>; the network's default portgroup applies when absent. */
  portgroup?: string;
  /** Host-side device (tap/veth) when already known; can be set later with updatePort. */
  ifname?: string;
  /** The process holding the port (QEMU, the LXC init); a port whose process is gone is dropped. */
  pid?: number;
}

export interface NetworkPort {
  uuid: string;
  network: string;
  networkUuid: string;
  owner: NetworkPortOwner;
  mac: string;
  portgroup?: string;
  /** Guests of every supported mode plug into a Linux bridge. */
  type: 'bridge';
  /** The bridge to attach the guest's tap/veth to. */
  bridge: string;
  /** MTU for the guest-side device (the network's <mtu>). */
  mtu?: number;
  macTableManager?: 'kernel' | 'libvirt';
  /** <port isolated='yes'/>: the host end gets the bridge port's isolated flag. */
  isolated?: boolean;
  trustGuestRxFilters?: boolean;
  vlan?: NetDevVlan;
  bandwidth?: NetDevBandwidth;
  virtualPort?: NetDevVPortProfile;
  ifname?: string;
  pid?: number;
  /** ms since the epoch. */
  createdAt: number;
}
