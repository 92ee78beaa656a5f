/**
 * @virtkit/network-route: the 'route' forward mode. The bridge, dnsmasq and
 * nftables work is done by @virtkit/network-linux; this package is what
 * the plugin loader finds for <forward mode='route'>.
 */
import { createL3NetworkMode } from '@virtkit/network-linux';

export const routeNetworkMode = createL3NetworkMode('route');
export default routeNetworkMode;
