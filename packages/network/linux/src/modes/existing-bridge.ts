/**
 * forward mode 'bridge' with <bridge name='…'/>: guests join a bridge the
 * host already has (set up by the distribution's network configuration).
 * virtkit creates nothing for it: no addresses, no dnsmasq, no firewall;
 * starting only checks that the bridge is there. (Without a bridge name,
 * libvirt's 'bridge' mode means macvtap on a device, which virtkit does
 * not do.)
 */
import { VirtError, type NetworkDef, type NetworkHealth, type NetworkMode, type NetworkModeContext } from '@virtkit/core';
import { deviceExists, deviceKind } from '../bridge/links.js';

const ORIGIN = { origin: 'network.linux' };

function bridgeName(def: NetworkDef): string {
  const br = def.bridge?.name;
  if (!br) {
    throw new VirtError(
      'NO_SUPPORT',
      `network '${def.name}': forward mode 'bridge' without <bridge name> (macvtap on ${def.forward?.interfaces[0]?.dev ?? 'a device'}) is not supported; name an existing host bridge`,
      ORIGIN,
    );
  }
  return br;
}

export function createExistingBridgeMode(): NetworkMode {
  return {
    modes: ['bridge'],

    validate(def: NetworkDef): void {
      bridgeName(def);
    },

    async prepare(ctx: NetworkModeContext): Promise<void> {
      const br = bridgeName(ctx.def);
      const kind = await deviceKind(ctx.runner, br);
      if (kind === undefined) throw new VirtError('OPERATION_FAILED', `network '${ctx.def.name}': host bridge '${br}' does not exist`, ORIGIN);
      if (kind !== 'bridge' && kind !== 'openvswitch') {
        throw new VirtError('OPERATION_FAILED', `network '${ctx.def.name}': host device '${br}' is not a bridge (it is a ${kind || 'plain'} device)`, ORIGIN);
      }
    },

    async start(): Promise<void> {
      // Nothing to set up: the bridge belongs to the host.
    },

    async undo(step): Promise<void> {
      throw new VirtError('INTERNAL_ERROR', `unknown undo step '${step.kind}' for a bridge network`, ORIGIN);
    },

    async health(ctx: NetworkModeContext): Promise<NetworkHealth> {
      // The host's bridge may come and go with the host's configuration; the network stays.
      void (await deviceExists(ctx.runner, bridgeName(ctx.def)));
      return { present: true, problems: [] };
    },
  };
}
