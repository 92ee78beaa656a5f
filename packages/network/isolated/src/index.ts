/**
 * @virtkit/network-isolated: networks without <forward> (libvirt's forward
 * mode "none"): guests talk to each other and to the host (DHCP, DNS),
 * nothing is forwarded. The work is done by @virtkit/network-linux.
 */
import { createL3NetworkMode } from '@virtkit/network-linux';

export const isolatedNetworkMode = createL3NetworkMode('none');
export default isolatedNetworkMode;
