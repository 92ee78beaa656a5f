import { createIscsiBackend } from './iscsi-backend.js';
import { createIscsiDirectBackend } from './iscsi-direct-backend.js';

export * from './portal.js';
export * from './iscsiadm.js';
export * from './libiscsi.js';
export * from './iscsi-backend.js';
export * from './iscsi-direct-backend.js';

/** The plugin entry: `iscsi` or `iscsi-direct`, by the pool type virtkit's loader asks for. */
export default function storageBackend(poolType: string) {
  return poolType === 'iscsi-direct' ? createIscsiDirectBackend() : createIscsiBackend();
}
