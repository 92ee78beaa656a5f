import { createDirBackend } from './dir-backend.js';

export * from './run-command.js';
export * from './image-probe.js';
export * from './block-target.js';
export * from './nbd-client.js';
export * from './qemu-block.js';
export * from './transfer.js';
export * from './wipe.js';
export * from './loop-device.js';
export * from './device-probe.js';
export * from './local-volumes.js';
export * from './dir-backend.js';

/** The plugin entry: virtkit's loader calls it with the pool type. */
export default function storageBackend(_poolType: string) {
  return createDirBackend();
}
