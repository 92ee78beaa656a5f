import { createFsBackend } from './fs-backend.js';

export * from './mount-command.js';
export * from './fs-backend.js';

/** The plugin entry: virtkit's loader calls it with the pool type. */
export default function storageBackend(_poolType: string) {
  return createFsBackend();
}
