import { readFile, realpath, rmdir } from 'node:fs/promises';
import {
  VirtError,
  type PoolBuildOptions,
  type StoragePoolBackend,
  type StoragePoolDef,
  type StoragePoolObject,
} from '@virtkit/core';
import {
  attachLoopDevice,
  buildPoolDirectory,
  detachLoopDevice,
  fileVolumeOperations,
  isRegularFile,
  probeDeviceFormat,
  runCommand,
  scanDirectory,
} from '@virtkit/storage-dir';
import { buildMountCommand, buildUnmountCommand, checkMountablePool } from './mount-command.js';

const ORIGIN = 'storage.fs';

function fail(code: VirtError['code'], pool: StoragePoolDef, message: string, cause?: unknown): VirtError {
  return new VirtError(code, `storage pool '${pool.name}': ${message}`, { origin: ORIGIN, ...(cause !== undefined ? { cause } : {}) });
}

/** Whether something is mounted on `path` (/proc/mounts). */
export async function isMounted(path: string): Promise<boolean> {
  const real = await realpath(path).catch(() => path);
  const text = await readFile('/proc/mounts', 'utf8').catch(() => '');
  return text.split('\n').some((l) => {
    const mp = l.split(' ')[1]?.replace(/\\040/g, ' ').replace(/\\011/g, '\t').replace(/\\134/g, '\\');
    return mp === real || mp === path;
  });
}

/**
 * The mkfs command libvirt's virStorageBackendExecuteMKFS runs for an fs
 * pool's `pool-build --overwrite` (or `--no-overwrite` on an empty device),
 * with the force flag each mkfs needs to overwrite.
 */
export function buildMkfsCommand(pool: StoragePoolDef, device = pool.source.devices[0]?.path, mkfs = 'mkfs'): string[] {
  const format = pool.source.format ?? 'auto';
  if (!device) throw fail('XML_ERROR', pool, 'missing source device');
  if (format === 'auto') throw fail('CONFIG_UNSUPPORTED', pool, "cannot make a file system of format 'auto': give <format type='ext4'/> or another");
  const cmd = [mkfs, '-t', format];
  if (format === 'xfs') cmd.push('-f');
  else if (format === 'ext2' || format === 'ext3' || format === 'ext4') cmd.push('-F');
  else if (format === 'vfat') cmd.push('-I');
  cmd.push(device);
  return cmd;
}

function mountPoint(pool: StoragePoolObject): string {
  const p = pool.def.target?.path;
  if (!p) throw fail('XML_ERROR', pool.def, 'missing storage pool target path');
  return p;
}

/**
 * libvirt's virStorageBackendFileSystemBuild for fs pools: the mount point,
 * then mkfs when asked to overwrite, or to not overwrite and the device is
 * empty (a device with a file system on it is refused with STORAGE_POOL_BUILT).
 */
export async function buildFsPool(pool: StoragePoolObject, opts: PoolBuildOptions, signal?: AbortSignal): Promise<void> {
  const def = pool.def;
  checkMountablePool(def);
  if (opts.overwrite && opts.noOverwrite) throw fail('INVALID_ARG', def, '--overwrite and --no-overwrite are mutually exclusive');
  await buildPoolDirectory(def);
  const device = def.source.devices[0]!.path;
  let mkfs = !!opts.overwrite;
  if (opts.noOverwrite) {
    const found = await probeDeviceFormat(device);
    if (found) throw fail('STORAGE_POOL_BUILT', def, `device '${device}' already formatted using '${found}'`);
    mkfs = true;
  }
  if (mkfs) await runCommand(buildMkfsCommand(def), { what: `storage pool '${def.name}'`, origin: ORIGIN, ...(signal ? { signal } : {}) });
}

/** Mounts an fs pool (attaching a loop device first when its source is an image file). */
export async function startFsPool(pool: StoragePoolObject): Promise<void> {
  const def = pool.def;
  checkMountablePool(def);
  const target = mountPoint(pool);
  if (await isMounted(target)) throw fail('OPERATION_INVALID', def, `target '${target}' is already mounted`);
  const source = def.source.devices[0]!.path;
  let device = source;
  if (await isRegularFile(source)) {
    device = await attachLoopDevice(source, { what: `storage pool '${def.name}'` });
    pool.state.loopDevice = device;
  }
  try {
    const withDevice: StoragePoolDef = { ...def, source: { ...def.source, devices: [{ ...def.source.devices[0]!, path: device }] } };
    await runCommand(buildMountCommand(withDevice), { what: `storage pool '${def.name}'`, origin: ORIGIN });
  } catch (err) {
    if (pool.state.loopDevice) {
      await detachLoopDevice(device).catch(() => {});
      delete pool.state.loopDevice;
    }
    throw err;
  }
}

/** Unmounts an fs pool and detaches the loop device it attached. */
export async function stopFsPool(pool: StoragePoolObject): Promise<void> {
  const def = pool.def;
  const target = mountPoint(pool);
  if (await isMounted(target)) await runCommand(buildUnmountCommand(def), { what: `storage pool '${def.name}'`, origin: ORIGIN });
  const loop = pool.state.loopDevice;
  if (typeof loop === 'string') {
    await detachLoopDevice(loop, { what: `storage pool '${def.name}'` });
    delete pool.state.loopDevice;
  }
}

/** An `fs` pool: a file system on a block device or image file, mounted on the target (libvirt's storage_backend_fs.c). */
export function createFsBackend(): StoragePoolBackend {
  return {
    type: 'fs',
    async checkPool(pool) {
      return isMounted(mountPoint(pool));
    },
    async buildPool(pool, opts, job) {
      await buildFsPool(pool, opts, job.signal);
    },
    startPool: startFsPool,
    stopPool: stopFsPool,
    async refreshPool(pool) {
      return scanDirectory(mountPoint(pool), `storage pool '${pool.def.name}'`);
    },
    async deletePool(pool) {
      const target = mountPoint(pool);
      try {
        await rmdir(target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fail('SYSTEM_ERROR', pool.def, `failed to remove pool '${target}': ${(err as Error).message}`, err);
      }
    },
    ...fileVolumeOperations(mountPoint),
  };
}
