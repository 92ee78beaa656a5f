/**
 * What one device puts on the command line, as data: the backends it
 * needs (in command-line order) and its frontend. The command line prints
 * them; hot-plug sends the same JSON over QMP (object-add, blockdev-add,
 * netdev_add, device_add), so a hot-plugged device is the device a start
 * would have created.
 */
import type { JsonObject } from './json.js';
import type { FdPass } from './state.js';

export type BackendPart =
  /** A QEMU object, block node or network backend: JSON on the command line and in QMP alike. */
  | { option: '-object' | '-blockdev' | '-netdev'; props: JsonObject }
  /** Passed descriptors and character devices: command-line text with no QMP twin here. */
  | { option: '-add-fd' | '-chardev'; text: string };

export interface DeviceParts {
  backends: BackendPart[];
  /** The frontend (-device, device_add). */
  device: JsonObject;
}

/** -add-fd of each descriptor of a set. */
export function fdPassParts(p: FdPass | undefined): BackendPart[] {
  return p ? p.fds.map((f) => ({ option: '-add-fd' as const, text: `set=${p.set},fd=${f.fd},opaque=${f.opaque}` })) : [];
}
