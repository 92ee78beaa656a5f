/**
 * @virtkit/network-linux: the Linux layer the network modes share.
 * dnsmasq/ writes dnsmasq's configuration as libvirt does; the bridge
 * (ip link) and nftables layers will sit beside it as bridge/ and nftables/.
 */
export * from './dnsmasq/caps.js';
export * from './dnsmasq/hosts.js';
export * from './dnsmasq/config.js';
