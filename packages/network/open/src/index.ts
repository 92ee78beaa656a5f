/**
 * @virtkit/network-open: the 'open' forward mode. The bridge, dnsmasq and
 * nftables work is done by @virtkit/network-linux; this package is what
 * the plugin loader finds for <forward mode='open'>.
 */
import { createL3NetworkMode } from '@virtkit/network-linux';

export const openNetworkMode = createL3NetworkMode('open');
export default openNetworkMode;
