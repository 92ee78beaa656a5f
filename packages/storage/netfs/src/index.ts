import { createNetfsBackend } from './netfs-backend.js';

export * from './start-command.js';
export * from './find-sources.js';
export * from './onc-rpc.js';
export * from './nfs3-client.js';
export * from './nfs-client-mode.js';
export * from './userspace-volumes.js';
export * from './netfs-backend.js';

/** The plugin entry: virtkit's loader calls it with the pool type. */
export default function storageBackend(_poolType: string) {
  return createNetfsBackend();
}
