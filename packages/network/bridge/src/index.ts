/**
 * @virtkit/network-bridge: <forward mode='bridge'/> with <bridge name='…'/>:
 * guests join a bridge the host already has; nothing is created or
 * removed. See @virtkit/network-linux's createExistingBridgeMode.
 */
import { createExistingBridgeMode } from '@virtkit/network-linux';

export const bridgeNetworkMode = createExistingBridgeMode();
export default bridgeNetworkMode;
