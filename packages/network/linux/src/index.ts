/**
 * @virtkit/network-linux: the Linux layer the network modes share —
 * dnsmasq (configuration as libvirt writes it, process, leases), bridges
 * and guest devices (ip), nftables rules per network, and the NetworkMode
 * implementations the mode packages export.
 */
export * from './dnsmasq/caps.js';
export * from './dnsmasq/hosts.js';
export * from './dnsmasq/config.js';
export * from './dnsmasq/process.js';
export * from './dnsmasq/leases.js';
export * from './bridge/links.js';
export * from './bridge/guest-devices.js';
export * from './nftables/rules.js';
export * from './nftables/apply.js';
export * from './modes/l3.js';
export * from './modes/existing-bridge.js';
