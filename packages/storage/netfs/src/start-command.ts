import { VirtError, type StoragePoolDef } from '@virtkit/core';
import { buildMountCommand, type MountCommandOptions } from '@virtkit/storage-fs';

/** The `mount` command that starts a netfs pool (NFS, GlusterFS or CIFS share). */
export function buildPoolStartCommand(pool: StoragePoolDef, opts: MountCommandOptions = {}): string[] {
  if (pool.type !== 'netfs') {
    throw new VirtError('NO_SUPPORT', `storage pool '${pool.name}': no start command for a '${pool.type}' pool in the netfs backend`, {
      origin: 'storage.netfs',
    });
  }
  return buildMountCommand(pool, opts);
}

export { buildMountCommand, buildUnmountCommand, poolMountSource, defaultMountOptions } from '@virtkit/storage-fs';
export type { MountCommandOptions } from '@virtkit/storage-fs';
