/** The bridge MAC address libvirt gives an L3 network that names none (virNetworkSetBridgeMacAddr). */
import { generateMac } from '../../xml/values.js';
import type { NetworkDef } from './types.js';

/** A random unicast MAC under QEMU/KVM's 52:54:00 prefix. */
export function generateBridgeMac(random: () => string = () => generateMac('52:54:00')): string {
  return random();
}

/** Sets def.mac when absent; returns the (possibly new) address. */
export function ensureBridgeMac(def: NetworkDef): string {
  def.mac ??= generateBridgeMac();
  return def.mac;
}
