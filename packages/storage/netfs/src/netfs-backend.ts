import { rmdir } from 'node:fs/promises';
import { VirtError, defaultVolumeDiskSource, formatStoragePoolSourceListXml, type StoragePoolBackend, type StoragePoolObject } from '@virtkit/core';
import { buildPoolDirectory, fileVolumeOperations, runCommand, scanDirectory } from '@virtkit/storage-dir';
import { buildUnmountCommand, isMounted } from '@virtkit/storage-fs';
import { buildShowmountCommand, hostOfSourceSpec, parseShowmountExports } from './find-sources.js';
import { nfsClientMode, type NfsClientMode } from './nfs-client-mode.js';
import { buildPoolStartCommand } from './start-command.js';
import { refreshUserspacePool, userspaceVolumeOperations, withExport } from './userspace-volumes.js';

const ORIGIN = 'storage.netfs';

function mountPoint(pool: StoragePoolObject): string {
  const p = pool.def.target?.path;
  if (!p) throw new VirtError('XML_ERROR', `storage pool '${pool.def.name}': missing storage pool target path`, { origin: ORIGIN });
  return p;
}

/** The client an active pool was started with (kept in its state), else what its definition resolves to. */
function modeOf(pool: StoragePoolObject): NfsClientMode {
  const m = pool.state.client;
  return m === 'kernel' || m === 'userspace' ? m : nfsClientMode(pool.def);
}

/**
 * A `netfs` pool: an NFS (or GlusterFS, CIFS) share. Mounted by the kernel
 * where it can be, as libvirt does; reached in user space otherwise (see
 * nfs-client-mode.ts), with the same pool and volume operations.
 */
export function createNetfsBackend(): StoragePoolBackend {
  const kernel = fileVolumeOperations(mountPoint);
  const user = userspaceVolumeOperations();
  const pick = <K extends keyof typeof kernel & keyof typeof user>(op: K) =>
    ((pool: StoragePoolObject, ...rest: unknown[]) => {
      const impl = (modeOf(pool) === 'kernel' ? kernel[op] : user[op]) as unknown as (p: StoragePoolObject, ...r: unknown[]) => unknown;
      return impl(pool, ...rest);
    }) as unknown as NonNullable<StoragePoolBackend[K]>;
  return {
    type: 'netfs',
    async findPoolSources(spec) {
      if (!spec) throw new VirtError('INVALID_ARG', 'hostname must be specified for netfs sources', { origin: ORIGIN });
      const host = hostOfSourceSpec(spec);
      const { stdout } = await runCommand(buildShowmountCommand(host), { what: `NFS server ${host}`, origin: ORIGIN, timeoutMs: 30000 });
      return formatStoragePoolSourceListXml(parseShowmountExports(stdout, host));
    },
    async checkPool(pool) {
      if (modeOf(pool) === 'kernel') return isMounted(mountPoint(pool));
      return withExport(pool.def, async () => true).catch(() => false);
    },
    async buildPool(pool) {
      // As libvirt: the mount point (the export is the server's business).
      if (nfsClientMode(pool.def) === 'kernel') await buildPoolDirectory(pool.def);
    },
    async startPool(pool) {
      const mode = nfsClientMode(pool.def);
      if (mode === 'kernel') {
        const target = mountPoint(pool);
        if (await isMounted(target)) throw new VirtError('OPERATION_INVALID', `storage pool '${pool.def.name}': target '${target}' is already mounted`, { origin: ORIGIN });
        await runCommand(buildPoolStartCommand(pool.def), { what: `storage pool '${pool.def.name}'`, origin: ORIGIN, timeoutMs: 120000 });
      } else {
        // Nothing is mounted: check the export answers, and remember how the pool was reached.
        await withExport(pool.def, (c) => c.getattr());
      }
      pool.state.client = mode;
    },
    async refreshPool(pool) {
      if (modeOf(pool) === 'kernel') return scanDirectory(mountPoint(pool), `storage pool '${pool.def.name}'`);
      return refreshUserspacePool(pool);
    },
    async stopPool(pool) {
      if (modeOf(pool) === 'kernel' && (await isMounted(mountPoint(pool)))) {
        await runCommand(buildUnmountCommand(pool.def), { what: `storage pool '${pool.def.name}'`, origin: ORIGIN });
      }
    },
    async deletePool(pool) {
      if (nfsClientMode(pool.def) !== 'kernel') return;
      await rmdir(mountPoint(pool)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw new VirtError('SYSTEM_ERROR', `storage pool '${pool.def.name}': failed to remove pool '${mountPoint(pool)}': ${err.message}`, { origin: ORIGIN, cause: err });
      });
    },
    createVol: pick('createVol'),
    buildVol: pick('buildVol'),
    buildVolFrom: pick('buildVolFrom'),
    refreshVol: pick('refreshVol'),
    deleteVol: pick('deleteVol'),
    resizeVol: pick('resizeVol'),
    uploadVol: pick('uploadVol'),
    downloadVol: pick('downloadVol'),
    wipeVol: pick('wipeVol'),
    volumeDiskSource(pool, vol) {
      return modeOf(pool) === 'kernel' ? defaultVolumeDiskSource(vol) : user.volumeDiskSource!(pool, vol);
    },
  };
}
