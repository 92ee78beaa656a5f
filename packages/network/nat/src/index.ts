/**
 * @virtkit/network-nat: the 'nat' forward mode. The bridge, dnsmasq and
 * nftables work is done by @virtkit/network-linux; this package is what
 * the plugin loader finds for <forward mode='nat'>.
 */
import { createL3NetworkMode } from '@virtkit/network-linux';

export const natNetworkMode = createL3NetworkMode('nat');
export default natNetworkMode;
