import { createLogicalBackend } from './logical-backend.js';

export * from './vgchange-command.js';
export * from './lvm-commands.js';
export * from './lvs-parse.js';
export * from './logical-backend.js';

/** The plugin entry: virtkit's loader calls it with the pool type. */
export default function storageBackend(_poolType: string) {
  return createLogicalBackend();
}
