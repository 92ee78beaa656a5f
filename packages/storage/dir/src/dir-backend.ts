import { rmdir, stat } from 'node:fs/promises';
import {
  VirtError,
  type JobContext,
  type PoolRefreshResult,
  type StoragePoolBackend,
  type StoragePoolObject,
  type StorageVolDef,
} from '@virtkit/core';
import {
  buildLocalVolume,
  buildLocalVolumeFrom,
  buildPoolDirectory,
  deleteLocalVolume,
  describeLocalVolume,
  downloadLocalVolume,
  resizeLocalVolume,
  scanDirectory,
  updateLocalVolume,
  uploadLocalVolume,
  wipeLocalVolume,
} from './local-volumes.js';

/** Where a pool's volume files are: the target folder of dir pools, the mount point of fs/netfs pools. */
export type VolumeFolderOf = (pool: StoragePoolObject) => string;

const targetFolder: VolumeFolderOf = (pool) => {
  const path = pool.def.target?.path;
  if (!path) throw new VirtError('XML_ERROR', `storage pool '${pool.def.name}': missing target path`, { origin: 'storage.dir' });
  return path;
};

/**
 * The volume half of every backend whose volumes are files in a folder
 * (dir, fs, netfs mounted by the kernel), as libvirt's storage_util.c
 * shares it between them.
 */
export function fileVolumeOperations(folderOf: VolumeFolderOf = targetFolder): Pick<
  StoragePoolBackend,
  'createVol' | 'buildVol' | 'buildVolFrom' | 'refreshVol' | 'deleteVol' | 'resizeVol' | 'uploadVol' | 'downloadVol' | 'wipeVol'
> {
  return {
    async createVol(pool, vol) {
      await describeLocalVolume(folderOf(pool), vol);
    },
    buildVol: buildLocalVolume,
    buildVolFrom: buildLocalVolumeFrom,
    async refreshVol(_pool, vol: StorageVolDef) {
      try {
        await updateLocalVolume(vol, vol.target.path!);
      } catch (err) {
        throw new VirtError('NO_STORAGE_VOL', `storage volume '${vol.name}': cannot read '${vol.target.path}': ${(err as Error).message}`, {
          origin: 'storage',
          cause: err,
        });
      }
    },
    async deleteVol(_pool, vol, opts) {
      await deleteLocalVolume(vol, opts);
    },
    resizeVol: resizeLocalVolume,
    async uploadVol(_pool, vol, source, opts, job) {
      await uploadLocalVolume(vol, source, opts, job);
    },
    async downloadVol(_pool, vol, opts, job) {
      return downloadLocalVolume(vol, opts, job);
    },
    wipeVol: wipeLocalVolume,
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** A `dir` pool: a folder of image files (libvirt's storage_backend_fs.c, dir part). */
export function createDirBackend(): StoragePoolBackend {
  return {
    type: 'dir',
    async checkPool(pool) {
      return isDirectory(targetFolder(pool));
    },
    async buildPool(pool) {
      await buildPoolDirectory(pool.def);
    },
    async startPool(pool) {
      const path = targetFolder(pool);
      if (!(await isDirectory(path))) {
        throw new VirtError('OPERATION_INVALID', `storage pool '${pool.def.name}': target path '${path}' is not a directory (run pool-build first)`, {
          origin: 'storage.dir',
        });
      }
    },
    async refreshPool(pool, _job: JobContext): Promise<PoolRefreshResult> {
      return scanDirectory(targetFolder(pool), `storage pool '${pool.def.name}'`);
    },
    async deletePool(pool) {
      const path = targetFolder(pool);
      try {
        await rmdir(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new VirtError('SYSTEM_ERROR', `storage pool '${pool.def.name}': failed to remove pool '${path}': ${(err as Error).message}`, {
          origin: 'storage.dir',
          cause: err,
        });
      }
    },
    ...fileVolumeOperations(targetFolder),
  };
}
